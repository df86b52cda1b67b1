"""Example case studies for the demo site, written by the programme's team to show what a good case looks like.

They are marked as examples: the cities' own cases are the ones their people write.
"""

# (city slug, language, title, summary, problem, approach, results, metrics, data used, tools, team, contact,
#  started, ended or None when ongoing, areas, criteria, SDGs, evaluation, links)
DEMO_CASES = [
    (
        "fortaleza", "pt_BR",
        "Reuniões mensais de desempenho com o prefeito",
        "Fortaleza passou a revisar metas de cada secretaria em reuniões mensais de uma hora com o prefeito, "
        "com um painel único enviado dois dias antes. Em um ano, a parcela de metas no prazo subiu de 41% para 67%.",
        "As metas do plano de governo eram acompanhadas por relatórios trimestrais em PDF que ninguém lia a "
        "tempo. Quando um atraso aparecia, já era tarde para corrigir o rumo.",
        "- Cada secretaria escolheu **cinco indicadores** ligados às metas do plano.\n"
        "- Um painel único, atualizado toda semana, substituiu os relatórios.\n"
        "- Reunião mensal de uma hora: dez minutos por secretaria, sempre com o mesmo roteiro "
        "(o que mudou, o que trava, o que a prefeitura decide).\n"
        "- As decisões vão para uma planilha pública de encaminhamentos, revisada no mês seguinte.",
        "Em doze meses, a parcela de metas no prazo subiu de 41% para 67%. As secretarias passaram a chegar "
        "com propostas, não só com explicações.",
        [
            ("Metas do plano no prazo", 41, 67, "%", "2024-12-31"),
            ("Secretarias com painel atualizado", 6, 22, "", "2024-12-31"),
        ],
        "Indicadores das 22 secretarias, sistema de acompanhamento do plano plurianual.",
        "Planilhas compartilhadas e um painel em Metabase.",
        "Coordenadoria de Gestão por Resultados, com um ponto focal em cada secretaria.",
        "gestao.resultados@fortaleza.example.org",
        "2023-11-01", None,
        ["PA"], ["PA1", "PA2"], [16, 17], "descriptive",
        [("https://dados.fortaleza.example.org/painel-metas", "Painel de metas")],
    ),
    (
        "recife", "pt_BR",
        "Inventário de dados com um dono para cada base",
        "Recife montou o inventário das bases de dados da prefeitura e nomeou, por portaria, um responsável por "
        "cada uma. A revisão trimestral manteve 90% das linhas atualizadas.",
        "O primeiro inventário, feito por uma consultoria, ficou desatualizado em seis meses: ninguém era "
        "responsável por manter as informações de cada base.",
        "1. Levantamento em oficinas com cada secretaria (nome da base, sistema, conteúdo, sigilo).\n"
        "2. **Portaria** nomeando um responsável por base e um ponto focal por secretaria.\n"
        "3. Revisão trimestral cobrada pelo comitê de dados, com a data da última revisão visível.\n"
        "4. Publicação do inventário, sem as bases sigilosas, no portal de dados abertos.",
        "O inventário cobre 312 bases de 19 secretarias; 90% das linhas foram revisadas no último trimestre. "
        "Três bases duplicadas foram unificadas.",
        [
            ("Bases inventariadas", 85, 312, "bases", "2025-03-31"),
            ("Linhas revisadas no trimestre", 20, 90, "%", "2025-03-31"),
        ],
        "Os próprios sistemas das secretarias e o catálogo do portal de dados abertos.",
        "Planilha padronizada, CKAN.",
        "Escritório de dados da Secretaria de Planejamento.",
        "dados@recife.example.org",
        "2024-02-01", "2025-03-31",
        ["DM"], ["DM1", "DM2", "DM3"], [16], "descriptive",
        [("https://dados.recife.example.org/inventario", "Inventário publicado")],
    ),
    (
        "novo-hamburgo", "pt_BR",
        "Portal de dados abertos começando pelo que já existia",
        "Novo Hamburgo publicou seu portal de dados abertos com 40 conjuntos em três meses, começando pelas "
        "planilhas que as secretarias já produziam e por uma política de dados abertos aprovada por decreto.",
        "Pedidos pela Lei de Acesso à Informação repetiam as mesmas perguntas sobre obras, saúde e educação, e "
        "cada resposta era montada à mão.",
        "- Decreto com a política de dados abertos e o prazo de atualização de cada conjunto.\n"
        "- Os 40 conjuntos mais pedidos por LAI publicados primeiro, em CSV, com dicionário de dados.\n"
        "- Um CKAN hospedado pela equipe de TI; cada conjunto com um responsável.\n"
        "- Um formulário para a população pedir novos conjuntos.",
        "Os pedidos de LAI sobre os temas publicados caíram 35% no primeiro ano. O portal teve 18 mil downloads.",
        [
            ("Conjuntos publicados", 0, 40, "conjuntos", "2024-09-30"),
            ("Pedidos de LAI sobre temas publicados", 220, 143, "pedidos/ano", "2025-06-30"),
        ],
        "Planilhas das secretarias, registros de pedidos da LAI.",
        "CKAN, Python para converter planilhas.",
        "Diretoria de Tecnologia e Ouvidoria.",
        "Pedro Schmitt, pedro@nh.example.org",
        "2024-06-01", "2025-06-30",
        ["OD"], ["OD1", "OD2", "OD3"], [16, 17], "quasi_experimental",
        [("https://dados.novohamburgo.example.org", "Portal de dados abertos")],
    ),
    (
        "mogi-das-cruzes", "pt_BR",
        "Contratos de zeladoria com pagamento por resultado",
        "Mogi das Cruzes reescreveu os contratos de zeladoria urbana com indicadores de qualidade medidos por "
        "fiscais com celular; parte do pagamento depende do resultado.",
        "Os contratos pagavam por hora de serviço, sem medir se as ruas ficavam limpas. As reclamações no 156 "
        "sobre zeladoria não caíam.",
        "- Cinco indicadores de qualidade definidos com a população em audiências por bairro.\n"
        "- Fiscais registram vistorias com foto e localização em um aplicativo.\n"
        "- **10% do pagamento mensal** depende da nota de qualidade.\n"
        "- Reunião mensal com a empresa para revisar os indicadores.",
        "As reclamações sobre zeladoria caíram 28% no primeiro ano do novo contrato, sem aumento de custo.",
        [("Reclamações de zeladoria no 156", 5400, 3890, "reclamações/ano", "2025-08-31")],
        "Registros do 156, vistorias georreferenciadas.",
        "Aplicativo de vistoria, painel em Power BI.",
        "Secretaria de Serviços Urbanos e Procuradoria.",
        "Ana Souza, ana@mogi.example.org",
        "2024-03-01", None,
        ["RDC"], ["RDC1", "RDC3", "RDC5"], [11, 12], "descriptive",
        [],
    ),
    (
        "niteroi", "pt_BR",
        "Orçamento ligado às metas do plano",
        "Niterói passou a justificar cada programa do orçamento com as metas do plano estratégico que ele "
        "financia e com os resultados do ano anterior.",
        "O orçamento era feito repetindo os valores do ano anterior; não se sabia que programas entregavam "
        "resultado.",
        "- Cada programa orçamentário ligado a uma meta do plano.\n"
        "- Fichas com custo, meta e resultado do ano anterior discutidas com a Fazenda.\n"
        "- Revisão de gastos em três programas por ano.",
        "Na revisão de 2024, 6% do orçamento de custeio foi realocado para programas com melhores resultados.",
        [("Programas com meta ligada", 30, 100, "%", "2024-12-31")],
        "Execução orçamentária, indicadores do plano estratégico.",
        "Sistema de orçamento, planilhas de revisão de gastos.",
        "Secretaria de Planejamento e Fazenda.",
        "planejamento@niteroi.example.org",
        "2023-03-01", "2024-12-31",
        ["BF"], ["BF1", "BF2"], [16], "none",
        [],
    ),
    (
        "medellin", "es",
        "Evaluación del programa de empleo juvenil con un grupo de comparación",
        "Medellín evaluó su programa de empleo para jóvenes comparando a los participantes con jóvenes inscritos "
        "que aún no habían entrado; el empleo formal a seis meses fue 9 puntos mayor.",
        "El programa se renovaba cada año sin saber si los jóvenes conseguían empleo gracias a él o a pesar "
        "de él.",
        "- Alianza con una universidad para diseñar la **evaluación**.\n"
        "- La lista de espera sirvió como grupo de comparación (diferencias en diferencias).\n"
        "- Datos de empleo formal cruzados con la planilla de seguridad social, anonimizados.\n"
        "- Resultados presentados al concejo antes de la renovación del programa.",
        "El empleo formal a seis meses fue 9 puntos porcentuales mayor entre participantes. El programa se "
        "amplió a dos comunas más.",
        [("Empleo formal a seis meses", 31, 40, "%", "2024-10-31")],
        "Registros del programa, planilla integrada de aportes a seguridad social.",
        "R, Stata, tablero en Power BI.",
        "Secretaría de Desarrollo Económico y Universidad de Antioquia.",
        "Andrés Gómez, andres@medellin.example.org",
        "2023-01-15", "2024-10-31",
        ["EVAL"], ["EVAL1", "EVAL2", "EVAL3"], [8, 10], "quasi_experimental",
        [("https://medellin.example.org/evaluacion-empleo-joven", "Informe de la evaluación")],
    ),
    (
        "cordoba", "es",
        "Presupuesto participativo con datos por barrio",
        "Córdoba publicó indicadores por barrio antes de cada asamblea del presupuesto participativo, para que "
        "los vecinos priorizaran obras con datos y no solo con la voz más fuerte.",
        "Las asambleas votaban obras sin saber dónde faltaban más servicios; los barrios con más organización "
        "se llevaban la mayor parte.",
        "- Fichas por barrio con acceso a agua, alumbrado, pavimento y salud.\n"
        "- Mapas impresos y en línea para cada asamblea.\n"
        "- Una regla de reparto que da más peso a los barrios con más carencias.\n"
        "- Seguimiento público de cada obra votada.",
        "La parte del presupuesto que fue a los barrios del quintil más pobre pasó del 14% al 27%.",
        [("Presupuesto al quintil más pobre", 14, 27, "%", "2024-12-31")],
        "Censo, registros de servicios municipales, catastro.",
        "QGIS, portal de datos abiertos.",
        "Secretaría de Participación Ciudadana.",
        "Lucía Fernández, lucia@cordoba.example.org",
        "2022-04-01", None,
        ["CI", "DM"], ["CI1", "DM8"], [10, 11, 16], "descriptive",
        [],
    ),
    (
        "merida", "es",
        "Gestión de reportes ciudadanos con tiempos de respuesta públicos",
        "Mérida unificó los reportes ciudadanos (baches, alumbrado, basura) en un solo sistema y publica "
        "cada semana el tiempo de respuesta de cada dependencia.",
        "Los reportes llegaban por teléfono, redes sociales y ventanilla, y se perdían entre dependencias. "
        "Nadie sabía cuánto tardaba la atención.",
        "- Un solo sistema de reportes con número de folio para el ciudadano.\n"
        "- Tiempos de respuesta comprometidos por tipo de reporte.\n"
        "- **Tablero público** semanal por dependencia.\n"
        "- Revisión mensual de las dependencias con más atraso.",
        "El tiempo medio de atención de baches bajó de 21 a 9 días; el 78% de los reportes se cierra en el "
        "plazo comprometido.",
        [
            ("Días para atender un bache", 21, 9, "días", "2025-02-28"),
            ("Reportes cerrados en plazo", 45, 78, "%", "2025-02-28"),
        ],
        "Reportes ciudadanos, órdenes de trabajo de las cuadrillas.",
        "Sistema de gestión de reportes de código abierto, tablero público.",
        "Dirección de Atención Ciudadana.",
        "atencion@merida.example.org",
        "2023-08-01", None,
        ["PA"], ["PA2", "PA3"], [11, 16], "descriptive",
        [("https://merida.example.org/reportes/tablero", "Tablero de tiempos de respuesta")],
    ),
]  # fmt: skip


def case_fields(row):
    """A demo row as the fields clean_case_input takes."""
    (city, language, title, summary, problem, approach, results, metrics, data_used, tools, team, contact,
     started, ended, areas, criteria, sdgs, evaluation, links) = row  # fmt: skip
    return {
        "city": city,
        "language": language,
        "title": title,
        "summary": summary,
        "problem": problem,
        "approach": approach,
        "results": results,
        "metrics": [
            {"name": name, "baseline": baseline, "result": result, "unit": unit, "date": measured}
            for name, baseline, result, unit, measured in metrics
        ],
        "data_used": data_used,
        "tools": tools,
        "team": team,
        "contact": contact,
        "started_on": started,
        "ended_on": ended,
        "ongoing": ended is None,
        "practice_areas": areas,
        "criteria": criteria,
        "sdgs": sdgs,
        "evaluation": evaluation,
        "links": [{"url": url, "title": link_title} for url, link_title in links],
    }
