"""The generic engine: definitions, shared machines, perform(), registries, deadlines,
audit, outbox, clock, unit of work and errors.

It imports no domain package; domains register with it (workflow.engine.plugins).
"""
