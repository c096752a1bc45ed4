"""Test support shipped with the package: the synthetic archive factory and generator
(``synth``) and the fuzzing strategies and contract checks (``fuzz``, needs hypothesis)."""
