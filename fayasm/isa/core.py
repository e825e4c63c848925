"""Rows of the instruction table: MVP and the 2.0 extensions other than SIMD.

Columns: opcode (``0xFC:8`` for a prefixed one), text name, immediates (``-`` for none;
``memarg:N`` carries the natural alignment log2, which is also the access size), the
operator class with its flags (see ``fayasm.isa.CLASSES`` and ``FLAGS``), and the type
signature (``params -> results``, or ``special`` for instructions the validator types by
hand).
"""

ROWS = """
# feature mvp: control
0x00      unreachable                   -              control,trap             special
0x01      nop                           -              control                  ->
0x02      block                         blocktype      control                  special
0x03      loop                          blocktype      control                  special
0x04      if                            blocktype      control                  special
0x05      else                          -              control                  special
0x0B      end                           -              control                  special
0x0C      br                            label          control                  special
0x0D      br_if                         label          control                  special
0x0E      br_table                      labels,label   control                  special
0x0F      return                        -              control                  special
0x10      call                          func           control,trap             special
0x11      call_indirect                 type,table     control,trap             special
# feature tail-call: control
0x12      return_call                   func           control,trap,tail        special
0x13      return_call_indirect          type,table     control,trap,tail        special
# feature mvp: parametric
0x1A      drop                          -              parametric               special
0x1B      select                        -              parametric               special
# feature mvp: variables
0x20      local.get                     local          variable                 special
0x21      local.set                     local          variable                 special
0x22      local.tee                     local          variable                 special
0x23      global.get                    global         variable                 special
0x24      global.set                    global         variable                 special
# feature mvp: memory
0x28      i32.load                      memarg:2       load,trap,reads          i32 -> i32
0x29      i64.load                      memarg:3       load,trap,reads          i32 -> i64
0x2A      f32.load                      memarg:2       load,trap,reads          i32 -> f32
0x2B      f64.load                      memarg:3       load,trap,reads          i32 -> f64
0x2C      i32.load8_s                   memarg:0       load,trap,reads          i32 -> i32
0x2D      i32.load8_u                   memarg:0       load,trap,reads          i32 -> i32
0x2E      i32.load16_s                  memarg:1       load,trap,reads          i32 -> i32
0x2F      i32.load16_u                  memarg:1       load,trap,reads          i32 -> i32
0x30      i64.load8_s                   memarg:0       load,trap,reads          i32 -> i64
0x31      i64.load8_u                   memarg:0       load,trap,reads          i32 -> i64
0x32      i64.load16_s                  memarg:1       load,trap,reads          i32 -> i64
0x33      i64.load16_u                  memarg:1       load,trap,reads          i32 -> i64
0x34      i64.load32_s                  memarg:2       load,trap,reads          i32 -> i64
0x35      i64.load32_u                  memarg:2       load,trap,reads          i32 -> i64
0x36      i32.store                     memarg:2       store,trap,writes        i32 i32 ->
0x37      i64.store                     memarg:3       store,trap,writes        i32 i64 ->
0x38      f32.store                     memarg:2       store,trap,writes        i32 f32 ->
0x39      f64.store                     memarg:3       store,trap,writes        i32 f64 ->
0x3A      i32.store8                    memarg:0       store,trap,writes        i32 i32 ->
0x3B      i32.store16                   memarg:1       store,trap,writes        i32 i32 ->
0x3C      i64.store8                    memarg:0       store,trap,writes        i32 i64 ->
0x3D      i64.store16                   memarg:1       store,trap,writes        i32 i64 ->
0x3E      i64.store32                   memarg:2       store,trap,writes        i32 i64 ->
0x3F      memory.size                   mem            memory,reads             -> i32
0x40      memory.grow                   mem            memory,writes            i32 -> i32
# feature mvp: numeric constants
0x41      i32.const                     i32            const                    -> i32
0x42      i64.const                     i64            const                    -> i64
0x43      f32.const                     f32            const                    -> f32
0x44      f64.const                     f64            const                    -> f64
# feature mvp: comparisons
0x45      i32.eqz                       -              testop                   i32 -> i32
0x46      i32.eq                        -              relop                    i32 i32 -> i32
0x47      i32.ne                        -              relop                    i32 i32 -> i32
0x48      i32.lt_s                      -              relop                    i32 i32 -> i32
0x49      i32.lt_u                      -              relop                    i32 i32 -> i32
0x4A      i32.gt_s                      -              relop                    i32 i32 -> i32
0x4B      i32.gt_u                      -              relop                    i32 i32 -> i32
0x4C      i32.le_s                      -              relop                    i32 i32 -> i32
0x4D      i32.le_u                      -              relop                    i32 i32 -> i32
0x4E      i32.ge_s                      -              relop                    i32 i32 -> i32
0x4F      i32.ge_u                      -              relop                    i32 i32 -> i32
0x50      i64.eqz                       -              testop                   i64 -> i32
0x51      i64.eq                        -              relop                    i64 i64 -> i32
0x52      i64.ne                        -              relop                    i64 i64 -> i32
0x53      i64.lt_s                      -              relop                    i64 i64 -> i32
0x54      i64.lt_u                      -              relop                    i64 i64 -> i32
0x55      i64.gt_s                      -              relop                    i64 i64 -> i32
0x56      i64.gt_u                      -              relop                    i64 i64 -> i32
0x57      i64.le_s                      -              relop                    i64 i64 -> i32
0x58      i64.le_u                      -              relop                    i64 i64 -> i32
0x59      i64.ge_s                      -              relop                    i64 i64 -> i32
0x5A      i64.ge_u                      -              relop                    i64 i64 -> i32
0x5B      f32.eq                        -              relop                    f32 f32 -> i32
0x5C      f32.ne                        -              relop                    f32 f32 -> i32
0x5D      f32.lt                        -              relop                    f32 f32 -> i32
0x5E      f32.gt                        -              relop                    f32 f32 -> i32
0x5F      f32.le                        -              relop                    f32 f32 -> i32
0x60      f32.ge                        -              relop                    f32 f32 -> i32
0x61      f64.eq                        -              relop                    f64 f64 -> i32
0x62      f64.ne                        -              relop                    f64 f64 -> i32
0x63      f64.lt                        -              relop                    f64 f64 -> i32
0x64      f64.gt                        -              relop                    f64 f64 -> i32
0x65      f64.le                        -              relop                    f64 f64 -> i32
0x66      f64.ge                        -              relop                    f64 f64 -> i32
# feature mvp: integer arithmetic
0x67      i32.clz                       -              unop                     i32 -> i32
0x68      i32.ctz                       -              unop                     i32 -> i32
0x69      i32.popcnt                    -              unop                     i32 -> i32
0x6A      i32.add                       -              binop,constexpr          i32 i32 -> i32
0x6B      i32.sub                       -              binop,constexpr          i32 i32 -> i32
0x6C      i32.mul                       -              binop,constexpr          i32 i32 -> i32
0x6D      i32.div_s                     -              binop,trap               i32 i32 -> i32
0x6E      i32.div_u                     -              binop,trap               i32 i32 -> i32
0x6F      i32.rem_s                     -              binop,trap               i32 i32 -> i32
0x70      i32.rem_u                     -              binop,trap               i32 i32 -> i32
0x71      i32.and                       -              binop                    i32 i32 -> i32
0x72      i32.or                        -              binop                    i32 i32 -> i32
0x73      i32.xor                       -              binop                    i32 i32 -> i32
0x74      i32.shl                       -              binop                    i32 i32 -> i32
0x75      i32.shr_s                     -              binop                    i32 i32 -> i32
0x76      i32.shr_u                     -              binop                    i32 i32 -> i32
0x77      i32.rotl                      -              binop                    i32 i32 -> i32
0x78      i32.rotr                      -              binop                    i32 i32 -> i32
0x79      i64.clz                       -              unop                     i64 -> i64
0x7A      i64.ctz                       -              unop                     i64 -> i64
0x7B      i64.popcnt                    -              unop                     i64 -> i64
0x7C      i64.add                       -              binop,constexpr          i64 i64 -> i64
0x7D      i64.sub                       -              binop,constexpr          i64 i64 -> i64
0x7E      i64.mul                       -              binop,constexpr          i64 i64 -> i64
0x7F      i64.div_s                     -              binop,trap               i64 i64 -> i64
0x80      i64.div_u                     -              binop,trap               i64 i64 -> i64
0x81      i64.rem_s                     -              binop,trap               i64 i64 -> i64
0x82      i64.rem_u                     -              binop,trap               i64 i64 -> i64
0x83      i64.and                       -              binop                    i64 i64 -> i64
0x84      i64.or                        -              binop                    i64 i64 -> i64
0x85      i64.xor                       -              binop                    i64 i64 -> i64
0x86      i64.shl                       -              binop                    i64 i64 -> i64
0x87      i64.shr_s                     -              binop                    i64 i64 -> i64
0x88      i64.shr_u                     -              binop                    i64 i64 -> i64
0x89      i64.rotl                      -              binop                    i64 i64 -> i64
0x8A      i64.rotr                      -              binop                    i64 i64 -> i64
# feature mvp: float arithmetic
0x8B      f32.abs                       -              unop                     f32 -> f32
0x8C      f32.neg                       -              unop                     f32 -> f32
0x8D      f32.ceil                      -              unop,nan                 f32 -> f32
0x8E      f32.floor                     -              unop,nan                 f32 -> f32
0x8F      f32.trunc                     -              unop,nan                 f32 -> f32
0x90      f32.nearest                   -              unop,nan                 f32 -> f32
0x91      f32.sqrt                      -              unop,nan                 f32 -> f32
0x92      f32.add                       -              binop,nan                f32 f32 -> f32
0x93      f32.sub                       -              binop,nan                f32 f32 -> f32
0x94      f32.mul                       -              binop,nan                f32 f32 -> f32
0x95      f32.div                       -              binop,nan                f32 f32 -> f32
0x96      f32.min                       -              binop,nan                f32 f32 -> f32
0x97      f32.max                       -              binop,nan                f32 f32 -> f32
0x98      f32.copysign                  -              binop                    f32 f32 -> f32
0x99      f64.abs                       -              unop                     f64 -> f64
0x9A      f64.neg                       -              unop                     f64 -> f64
0x9B      f64.ceil                      -              unop,nan                 f64 -> f64
0x9C      f64.floor                     -              unop,nan                 f64 -> f64
0x9D      f64.trunc                     -              unop,nan                 f64 -> f64
0x9E      f64.nearest                   -              unop,nan                 f64 -> f64
0x9F      f64.sqrt                      -              unop,nan                 f64 -> f64
0xA0      f64.add                       -              binop,nan                f64 f64 -> f64
0xA1      f64.sub                       -              binop,nan                f64 f64 -> f64
0xA2      f64.mul                       -              binop,nan                f64 f64 -> f64
0xA3      f64.div                       -              binop,nan                f64 f64 -> f64
0xA4      f64.min                       -              binop,nan                f64 f64 -> f64
0xA5      f64.max                       -              binop,nan                f64 f64 -> f64
0xA6      f64.copysign                  -              binop                    f64 f64 -> f64
# feature mvp: conversions
0xA7      i32.wrap_i64                  -              cvtop                    i64 -> i32
0xA8      i32.trunc_f32_s               -              cvtop,trap               f32 -> i32
0xA9      i32.trunc_f32_u               -              cvtop,trap               f32 -> i32
0xAA      i32.trunc_f64_s               -              cvtop,trap               f64 -> i32
0xAB      i32.trunc_f64_u               -              cvtop,trap               f64 -> i32
0xAC      i64.extend_i32_s              -              cvtop                    i32 -> i64
0xAD      i64.extend_i32_u              -              cvtop                    i32 -> i64
0xAE      i64.trunc_f32_s               -              cvtop,trap               f32 -> i64
0xAF      i64.trunc_f32_u               -              cvtop,trap               f32 -> i64
0xB0      i64.trunc_f64_s               -              cvtop,trap               f64 -> i64
0xB1      i64.trunc_f64_u               -              cvtop,trap               f64 -> i64
0xB2      f32.convert_i32_s             -              cvtop                    i32 -> f32
0xB3      f32.convert_i32_u             -              cvtop                    i32 -> f32
0xB4      f32.convert_i64_s             -              cvtop                    i64 -> f32
0xB5      f32.convert_i64_u             -              cvtop                    i64 -> f32
0xB6      f32.demote_f64                -              cvtop,nan                f64 -> f32
0xB7      f64.convert_i32_s             -              cvtop                    i32 -> f64
0xB8      f64.convert_i32_u             -              cvtop                    i32 -> f64
0xB9      f64.convert_i64_s             -              cvtop                    i64 -> f64
0xBA      f64.convert_i64_u             -              cvtop                    i64 -> f64
0xBB      f64.promote_f32               -              cvtop,nan                f32 -> f64
0xBC      i32.reinterpret_f32           -              cvtop                    f32 -> i32
0xBD      i64.reinterpret_f64           -              cvtop                    f64 -> i64
0xBE      f32.reinterpret_i32           -              cvtop                    i32 -> f32
0xBF      f64.reinterpret_i64           -              cvtop                    i64 -> f64
# feature sign-extension
0xC0      i32.extend8_s                 -              unop                     i32 -> i32
0xC1      i32.extend16_s                -              unop                     i32 -> i32
0xC2      i64.extend8_s                 -              unop                     i64 -> i64
0xC3      i64.extend16_s                -              unop                     i64 -> i64
0xC4      i64.extend32_s                -              unop                     i64 -> i64
# feature nontrapping-float-to-int
0xFC:0    i32.trunc_sat_f32_s           -              cvtop                    f32 -> i32
0xFC:1    i32.trunc_sat_f32_u           -              cvtop                    f32 -> i32
0xFC:2    i32.trunc_sat_f64_s           -              cvtop                    f64 -> i32
0xFC:3    i32.trunc_sat_f64_u           -              cvtop                    f64 -> i32
0xFC:4    i64.trunc_sat_f32_s           -              cvtop                    f32 -> i64
0xFC:5    i64.trunc_sat_f32_u           -              cvtop                    f32 -> i64
0xFC:6    i64.trunc_sat_f64_s           -              cvtop                    f64 -> i64
0xFC:7    i64.trunc_sat_f64_u           -              cvtop                    f64 -> i64
# feature bulk-memory
0xFC:8    memory.init                   data,mem       memory,trap,writes       i32 i32 i32 ->
0xFC:9    data.drop                     data           memory,writes            ->
0xFC:10   memory.copy                   mem,mem        memory,trap,writes       i32 i32 i32 ->
0xFC:11   memory.fill                   mem            memory,trap,writes       i32 i32 i32 ->
0xFC:12   table.init                    elem,table     table,trap,writes        special
0xFC:13   elem.drop                     elem           table,writes             ->
0xFC:14   table.copy                    table,table    table,trap,writes        special
# feature reference-types
0x1C      select_t                      valtypes       parametric               special
0x25      table.get                     table          table,trap,reads         special
0x26      table.set                     table          table,trap,writes        special
0xFC:15   table.grow                    table          table,writes             special
0xFC:16   table.size                    table          table,reads              -> i32
0xFC:17   table.fill                    table          table,trap,writes        special
0xD0      ref.null                      reftype        ref                      special
0xD1      ref.is_null                   -              ref                      special
0xD2      ref.func                      func           ref                      special
"""
