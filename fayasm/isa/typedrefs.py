"""Rows of the instruction table: typed function references (WebAssembly 3.0).

Same columns as ``core.py``. Every row is ``special``: its typing depends on the operand's
reference type or on a label (``fayasm/validate/code.py``).
"""

ROWS = """
# feature function-references
0x14      call_ref                      type           control,trap             special
0x15      return_call_ref               type           control,trap,tail        special
0xD4      ref.as_non_null               -              ref,trap                 special
0xD5      br_on_null                    label          control                  special
0xD6      br_on_non_null                label          control                  special
"""
