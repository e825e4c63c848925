"""Implementation limits: the one place that says how big a module or a guest may get.

The spec leaves these to implementations. The binary decoder, the text parser, the
validator and every engine read them from here (as ``fayasm.runtime.limits``), so a
module one front end accepts is one the other accepts too, and engines agree on where a
guest stops. README's "Implementation limits" lists them.
"""

# The call stack, counted in units (runtime/stack.py): a frame costs frame_units() of its
# size, and a frame ending above depth MAX_CALL_DEPTH raises Exhaustion ("call stack
# exhausted"); so at most MAX_CALL_DEPTH + 1 small frames are live, and big frames are
# bounded by their total size (at most about MAX_CALL_DEPTH * SLOTS_PER_UNIT values),
# on every engine. ResourceLimits(max_stack=) lowers the depth, never raises it.
MAX_CALL_DEPTH = 20_000

# Values (parameters, locals and operand-stack slots) one stack unit holds.
SLOTS_PER_UNIT = 64


def frame_units(slots: int) -> int:
    """The stack units of a frame with ``slots`` values (locals with the parameters, plus
    the function's deepest operand stack): one per started SLOTS_PER_UNIT, at least one."""
    return 1 + slots // SLOTS_PER_UNIT


# C stack one nested entry into wasm may use (host function -> wasm), for the engines
# whose wasm frames cost none (interpreter, python): measured at 1,856 bytes on
# CPython 3.11 (scripts/stack_bounds.py), doubled for the host's own code between entries.
ENTRY_BYTES = 4096
# C stack kept free on every thread besides that: the code below the first entry and
# what a host function's own calls need.
STACK_RESERVE = 64 * 1024

# Declared locals of one function (parameters not counted); more is "too many locals"
# (the same limit as wasmtime's), refused before billions of locals are materialised.
MAX_LOCALS = 50_000

# Blocks, loops and ifs open at once in one function body (or constant expression).
# Deeper bodies are refused at decoding or parsing ("nesting too deep"); up to this
# depth everything (validation, the IR, the interpreter, the python and jit lowerings,
# the printer) takes time linear in the body's size.
MAX_NESTING = 200_000

# Parentheses open at once in WAT text. A folded ``if`` takes two per nesting level,
# so this admits any body within MAX_NESTING; the lexer stops at once past it, so a
# hugely nested text is refused without reading the rest.
MAX_TEXT_DEPTH = 2 * MAX_NESTING + 1_000

# Pages a 64-bit memory may reach (4 GiB, as a 32-bit one): its mmap reservation is
# bounded by this, and growing past it fails (memory.grow returns -1), as the spec permits.
MAX_MEMORY64_PAGES = 65536

# Elements of one table; growing past it fails (table.grow returns -1), as the spec permits.
MAX_TABLE_SIZE = 10_000_000
# The most elements a GC array may have: allocating more traps (a list of that many
# references is 512 MiB), as an allocation failure does in other engines.
MAX_ARRAY_LENGTH = 1 << 26

# Fuel: one unit per function call and per branch back to a loop. A deadline is checked
# every DEADLINE_INTERVAL units.
DEADLINE_INTERVAL = 4096

# Bulk operations (memory.fill/copy/init, table.fill/copy/init) also cost a unit per
# 2**BULK_SHIFT bytes or elements, charged before their bounds check, on every engine:
# without it 20 fills of 1 GiB ran 45 s under fuel=10.
BULK_SHIFT = 16
