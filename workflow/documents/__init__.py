"""Printed documents (agenda, minutes, decision register, yearly follow-up): tagged PDF drawn
from HTML templates under templates/documents, and Word documents in A4 with Danish proofing."""
