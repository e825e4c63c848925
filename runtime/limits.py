"""Implementation limits shared by every engine, so they agree on where a guest stops."""

# Nested wasm calls beyond this depth raise Exhaustion ("call stack exhausted").
MAX_CALL_DEPTH = 20_000

# Fuel: one unit per function call and per branch back to a loop. A deadline is checked
# every DEADLINE_INTERVAL units.
DEADLINE_INTERVAL = 4096
