"""Consultations (høring): rounds, answers and summaries."""
