"""Rows of the instruction table: garbage collection (WebAssembly 3.0): structs, arrays,
i31 references, casts and the conversions between the any and extern hierarchies.

Same columns as ``core.py``. An allocation is flagged ``writes``: it makes an object with
an identity of its own, so the IR neither drops, repeats nor reorders it. ``ref.test``/``ref.cast`` have a row per nullability of
their target (one text name: the immediate's type says which). Typing needs the type
immediates, so most rows are ``special`` (``fayasm/validate/gc.py``).
"""

ROWS = """
# feature gc
0xFB:0    struct.new                    type           aggregate,writes         special
0xFB:1    struct.new_default            type           aggregate,writes         special
0xFB:2    struct.get                    type,field     aggregate,trap,reads     special
0xFB:3    struct.get_s                  type,field     aggregate,trap,reads     special
0xFB:4    struct.get_u                  type,field     aggregate,trap,reads     special
0xFB:5    struct.set                    type,field     aggregate,trap,writes    special
0xFB:6    array.new                     type           aggregate,trap,writes    special
0xFB:7    array.new_default             type           aggregate,trap,writes    special
0xFB:8    array.new_fixed               type,count     aggregate,trap,writes    special
0xFB:9    array.new_data                type,data      aggregate,trap,reads,writes special
0xFB:10   array.new_elem                type,elem      aggregate,trap,reads,writes special
0xFB:11   array.get                     type           aggregate,trap,reads     special
0xFB:12   array.get_s                   type           aggregate,trap,reads     special
0xFB:13   array.get_u                   type           aggregate,trap,reads     special
0xFB:14   array.set                     type           aggregate,trap,writes    special
0xFB:15   array.len                     -              aggregate,trap           special
0xFB:16   array.fill                    type           aggregate,trap,writes    special
0xFB:17   array.copy                    type,type      aggregate,trap,reads,writes special
0xFB:18   array.init_data               type,data      aggregate,trap,reads,writes special
0xFB:19   array.init_elem               type,elem      aggregate,trap,reads,writes special
0xFB:20   ref.test                      casttype       ref                      special
0xFB:21   ref.test_null                 casttype       ref                      special
0xFB:22   ref.cast                      casttype       ref,trap                 special
0xFB:23   ref.cast_null                 casttype       ref,trap                 special
0xFB:24   br_on_cast                    label,casttype,casttype control         special
0xFB:25   br_on_cast_fail               label,casttype,casttype control         special
0xFB:26   any.convert_extern            -              ref                      special
0xFB:27   extern.convert_any            -              ref                      special
0xFB:28   ref.i31                       -              aggregate                special
0xFB:29   i31.get_s                     -              aggregate,trap           special
0xFB:30   i31.get_u                     -              aggregate,trap           special
0xD3      ref.eq                        -              ref                      special
"""
