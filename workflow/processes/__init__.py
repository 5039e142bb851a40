"""Process definitions in words: diagram, states, who may do what, the rules, the versions."""
