"""Implementation limits shared by every engine, so they agree on where a guest stops."""

# Nested wasm calls beyond this depth raise Exhaustion ("call stack exhausted").
MAX_CALL_DEPTH = 20_000

# Fuel: one unit per function call and per branch back to a loop. A deadline is checked
# every DEADLINE_INTERVAL units.
DEADLINE_INTERVAL = 4096

# Bulk operations (memory.fill/copy/init, table.fill/copy/init) also cost a unit per
# 2**BULK_SHIFT bytes or elements, charged before their bounds check, on every engine:
# without it 20 fills of 1 GiB ran 45 s under fuel=10.
BULK_SHIFT = 16
