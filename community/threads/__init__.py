"""Discussion threads: questions, answers, comments, votes, accepted answers, tags, following and moderation."""
