"""Cases: the list, a case's page and actions, its attachments and the agreement's rules."""
