"""Who the user is: login, passwords, personal API tokens and the user's own settings."""
