"""Administration: users, memberships, bodies, parties and planning areas."""
