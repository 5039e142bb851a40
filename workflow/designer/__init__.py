"""The process designer: admins edit a draft of a process definition, see it validated by the
loader, its diagram and its difference from the published version, and publish it."""
