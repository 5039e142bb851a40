"""Meetings: calendars, agendas, minutes, material deadlines, documents and feeds."""
