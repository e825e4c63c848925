"""Rows of the instruction table: exception handling (WebAssembly 3.0), and the legacy
exception instructions many toolchains still emit (``try``/``catch``/``delegate``).

Same columns as ``core.py``. Every row is ``special``: a throw's operands are its tag's
parameters, and the blocks' typing follows labels (``fayasm/validate/code.py``).
"""

ROWS = """
# feature exception-handling
0x08      throw                         tag            control,trap             special
0x0A      throw_ref                     -              control,trap             special
0x1F      try_table                     blocktype,catches control               special
# feature legacy-exceptions
0x06      try                           blocktype      control                  special
0x07      catch                         tag            control                  special
0x19      catch_all                     -              control                  special
0x18      delegate                      label          control                  special
0x09      rethrow                       label          control,trap             special
"""
