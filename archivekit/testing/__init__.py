"""Test support shipped with the package: the synthetic archive factory and generator
(``synth``, no extra dependency) and the fuzzing strategies and contract checks (``fuzz``,
needs ``archivekit[testing]``: hypothesis).

May import every library layer; never the entry points (validate, inspect, cli): the contract
checks run the CLI in a subprocess or take `validate` as an argument.
"""
