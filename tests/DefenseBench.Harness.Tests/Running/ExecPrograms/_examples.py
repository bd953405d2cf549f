"""Makes examples/defenses/exec_defense.py importable for the test programs beside this file."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "examples", "defenses"))
