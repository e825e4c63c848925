"""Rows of the instruction table: fixed-width SIMD (all under the 0xFD prefix).

Same columns as core.py (class and flags included); ``lane:N`` is a lane index below N,
``shuffle`` sixteen of them. The relaxed SIMD rows (WebAssembly 3.0) carry the ``relaxed``
flag: the spec allows a set of results; fayasm computes the deterministic profile's
(docs/relaxed-simd.md).
"""

ROWS = """
# feature simd
0xFD:0    v128.load                     memarg:4       load,trap,reads          i32 -> v128
0xFD:1    v128.load8x8_s                memarg:3       load,trap,reads          i32 -> v128
0xFD:2    v128.load8x8_u                memarg:3       load,trap,reads          i32 -> v128
0xFD:3    v128.load16x4_s               memarg:3       load,trap,reads          i32 -> v128
0xFD:4    v128.load16x4_u               memarg:3       load,trap,reads          i32 -> v128
0xFD:5    v128.load32x2_s               memarg:3       load,trap,reads          i32 -> v128
0xFD:6    v128.load32x2_u               memarg:3       load,trap,reads          i32 -> v128
0xFD:7    v128.load8_splat              memarg:0       load,trap,reads          i32 -> v128
0xFD:8    v128.load16_splat             memarg:1       load,trap,reads          i32 -> v128
0xFD:9    v128.load32_splat             memarg:2       load,trap,reads          i32 -> v128
0xFD:10   v128.load64_splat             memarg:3       load,trap,reads          i32 -> v128
0xFD:11   v128.store                    memarg:4       store,trap,writes        i32 v128 ->
0xFD:12   v128.const                    v128           const                    -> v128
0xFD:13   i8x16.shuffle                 shuffle        shuffle                  v128 v128 -> v128
0xFD:14   i8x16.swizzle                 -              binop                    v128 v128 -> v128
0xFD:15   i8x16.splat                   -              splat                    i32 -> v128
0xFD:16   i16x8.splat                   -              splat                    i32 -> v128
0xFD:17   i32x4.splat                   -              splat                    i32 -> v128
0xFD:18   i64x2.splat                   -              splat                    i64 -> v128
0xFD:19   f32x4.splat                   -              splat                    f32 -> v128
0xFD:20   f64x2.splat                   -              splat                    f64 -> v128
0xFD:21   i8x16.extract_lane_s          lane:16        extract_lane             v128 -> i32
0xFD:22   i8x16.extract_lane_u          lane:16        extract_lane             v128 -> i32
0xFD:23   i8x16.replace_lane            lane:16        replace_lane             v128 i32 -> v128
0xFD:24   i16x8.extract_lane_s          lane:8         extract_lane             v128 -> i32
0xFD:25   i16x8.extract_lane_u          lane:8         extract_lane             v128 -> i32
0xFD:26   i16x8.replace_lane            lane:8         replace_lane             v128 i32 -> v128
0xFD:27   i32x4.extract_lane            lane:4         extract_lane             v128 -> i32
0xFD:28   i32x4.replace_lane            lane:4         replace_lane             v128 i32 -> v128
0xFD:29   i64x2.extract_lane            lane:2         extract_lane             v128 -> i64
0xFD:30   i64x2.replace_lane            lane:2         replace_lane             v128 i64 -> v128
0xFD:31   f32x4.extract_lane            lane:4         extract_lane             v128 -> f32
0xFD:32   f32x4.replace_lane            lane:4         replace_lane             v128 f32 -> v128
0xFD:33   f64x2.extract_lane            lane:2         extract_lane             v128 -> f64
0xFD:34   f64x2.replace_lane            lane:2         replace_lane             v128 f64 -> v128
0xFD:35   i8x16.eq                      -              relop                    v128 v128 -> v128
0xFD:36   i8x16.ne                      -              relop                    v128 v128 -> v128
0xFD:37   i8x16.lt_s                    -              relop                    v128 v128 -> v128
0xFD:38   i8x16.lt_u                    -              relop                    v128 v128 -> v128
0xFD:39   i8x16.gt_s                    -              relop                    v128 v128 -> v128
0xFD:40   i8x16.gt_u                    -              relop                    v128 v128 -> v128
0xFD:41   i8x16.le_s                    -              relop                    v128 v128 -> v128
0xFD:42   i8x16.le_u                    -              relop                    v128 v128 -> v128
0xFD:43   i8x16.ge_s                    -              relop                    v128 v128 -> v128
0xFD:44   i8x16.ge_u                    -              relop                    v128 v128 -> v128
0xFD:45   i16x8.eq                      -              relop                    v128 v128 -> v128
0xFD:46   i16x8.ne                      -              relop                    v128 v128 -> v128
0xFD:47   i16x8.lt_s                    -              relop                    v128 v128 -> v128
0xFD:48   i16x8.lt_u                    -              relop                    v128 v128 -> v128
0xFD:49   i16x8.gt_s                    -              relop                    v128 v128 -> v128
0xFD:50   i16x8.gt_u                    -              relop                    v128 v128 -> v128
0xFD:51   i16x8.le_s                    -              relop                    v128 v128 -> v128
0xFD:52   i16x8.le_u                    -              relop                    v128 v128 -> v128
0xFD:53   i16x8.ge_s                    -              relop                    v128 v128 -> v128
0xFD:54   i16x8.ge_u                    -              relop                    v128 v128 -> v128
0xFD:55   i32x4.eq                      -              relop                    v128 v128 -> v128
0xFD:56   i32x4.ne                      -              relop                    v128 v128 -> v128
0xFD:57   i32x4.lt_s                    -              relop                    v128 v128 -> v128
0xFD:58   i32x4.lt_u                    -              relop                    v128 v128 -> v128
0xFD:59   i32x4.gt_s                    -              relop                    v128 v128 -> v128
0xFD:60   i32x4.gt_u                    -              relop                    v128 v128 -> v128
0xFD:61   i32x4.le_s                    -              relop                    v128 v128 -> v128
0xFD:62   i32x4.le_u                    -              relop                    v128 v128 -> v128
0xFD:63   i32x4.ge_s                    -              relop                    v128 v128 -> v128
0xFD:64   i32x4.ge_u                    -              relop                    v128 v128 -> v128
0xFD:65   f32x4.eq                      -              relop                    v128 v128 -> v128
0xFD:66   f32x4.ne                      -              relop                    v128 v128 -> v128
0xFD:67   f32x4.lt                      -              relop                    v128 v128 -> v128
0xFD:68   f32x4.gt                      -              relop                    v128 v128 -> v128
0xFD:69   f32x4.le                      -              relop                    v128 v128 -> v128
0xFD:70   f32x4.ge                      -              relop                    v128 v128 -> v128
0xFD:71   f64x2.eq                      -              relop                    v128 v128 -> v128
0xFD:72   f64x2.ne                      -              relop                    v128 v128 -> v128
0xFD:73   f64x2.lt                      -              relop                    v128 v128 -> v128
0xFD:74   f64x2.gt                      -              relop                    v128 v128 -> v128
0xFD:75   f64x2.le                      -              relop                    v128 v128 -> v128
0xFD:76   f64x2.ge                      -              relop                    v128 v128 -> v128
0xFD:77   v128.not                      -              unop                     v128 -> v128
0xFD:78   v128.and                      -              binop                    v128 v128 -> v128
0xFD:79   v128.andnot                   -              binop                    v128 v128 -> v128
0xFD:80   v128.or                       -              binop                    v128 v128 -> v128
0xFD:81   v128.xor                      -              binop                    v128 v128 -> v128
0xFD:82   v128.bitselect                -              ternop                   v128 v128 v128 -> v128
0xFD:83   v128.any_true                 -              testop                   v128 -> i32
0xFD:84   v128.load8_lane               memarg:0,lane:16 load,trap,reads          i32 v128 -> v128
0xFD:85   v128.load16_lane              memarg:1,lane:8 load,trap,reads          i32 v128 -> v128
0xFD:86   v128.load32_lane              memarg:2,lane:4 load,trap,reads          i32 v128 -> v128
0xFD:87   v128.load64_lane              memarg:3,lane:2 load,trap,reads          i32 v128 -> v128
0xFD:88   v128.store8_lane              memarg:0,lane:16 store,trap,writes        i32 v128 ->
0xFD:89   v128.store16_lane             memarg:1,lane:8 store,trap,writes        i32 v128 ->
0xFD:90   v128.store32_lane             memarg:2,lane:4 store,trap,writes        i32 v128 ->
0xFD:91   v128.store64_lane             memarg:3,lane:2 store,trap,writes        i32 v128 ->
0xFD:92   v128.load32_zero              memarg:2       load,trap,reads          i32 -> v128
0xFD:93   v128.load64_zero              memarg:3       load,trap,reads          i32 -> v128
0xFD:94   f32x4.demote_f64x2_zero       -              cvtop,nan                v128 -> v128
0xFD:95   f64x2.promote_low_f32x4       -              cvtop,nan                v128 -> v128
0xFD:96   i8x16.abs                     -              unop                     v128 -> v128
0xFD:97   i8x16.neg                     -              unop                     v128 -> v128
0xFD:98   i8x16.popcnt                  -              unop                     v128 -> v128
0xFD:99   i8x16.all_true                -              testop                   v128 -> i32
0xFD:100  i8x16.bitmask                 -              unop                     v128 -> i32
0xFD:101  i8x16.narrow_i16x8_s          -              binop                    v128 v128 -> v128
0xFD:102  i8x16.narrow_i16x8_u          -              binop                    v128 v128 -> v128
0xFD:103  f32x4.ceil                    -              unop,nan                 v128 -> v128
0xFD:104  f32x4.floor                   -              unop,nan                 v128 -> v128
0xFD:105  f32x4.trunc                   -              unop,nan                 v128 -> v128
0xFD:106  f32x4.nearest                 -              unop,nan                 v128 -> v128
0xFD:107  i8x16.shl                     -              binop                    v128 i32 -> v128
0xFD:108  i8x16.shr_s                   -              binop                    v128 i32 -> v128
0xFD:109  i8x16.shr_u                   -              binop                    v128 i32 -> v128
0xFD:110  i8x16.add                     -              binop                    v128 v128 -> v128
0xFD:111  i8x16.add_sat_s               -              binop                    v128 v128 -> v128
0xFD:112  i8x16.add_sat_u               -              binop                    v128 v128 -> v128
0xFD:113  i8x16.sub                     -              binop                    v128 v128 -> v128
0xFD:114  i8x16.sub_sat_s               -              binop                    v128 v128 -> v128
0xFD:115  i8x16.sub_sat_u               -              binop                    v128 v128 -> v128
0xFD:116  f64x2.ceil                    -              unop,nan                 v128 -> v128
0xFD:117  f64x2.floor                   -              unop,nan                 v128 -> v128
0xFD:118  i8x16.min_s                   -              binop                    v128 v128 -> v128
0xFD:119  i8x16.min_u                   -              binop                    v128 v128 -> v128
0xFD:120  i8x16.max_s                   -              binop                    v128 v128 -> v128
0xFD:121  i8x16.max_u                   -              binop                    v128 v128 -> v128
0xFD:122  f64x2.trunc                   -              unop,nan                 v128 -> v128
0xFD:123  i8x16.avgr_u                  -              binop                    v128 v128 -> v128
0xFD:124  i16x8.extadd_pairwise_i8x16_s -              unop                     v128 -> v128
0xFD:125  i16x8.extadd_pairwise_i8x16_u -              unop                     v128 -> v128
0xFD:126  i32x4.extadd_pairwise_i16x8_s -              unop                     v128 -> v128
0xFD:127  i32x4.extadd_pairwise_i16x8_u -              unop                     v128 -> v128
0xFD:128  i16x8.abs                     -              unop                     v128 -> v128
0xFD:129  i16x8.neg                     -              unop                     v128 -> v128
0xFD:130  i16x8.q15mulr_sat_s           -              binop                    v128 v128 -> v128
0xFD:131  i16x8.all_true                -              testop                   v128 -> i32
0xFD:132  i16x8.bitmask                 -              unop                     v128 -> i32
0xFD:133  i16x8.narrow_i32x4_s          -              binop                    v128 v128 -> v128
0xFD:134  i16x8.narrow_i32x4_u          -              binop                    v128 v128 -> v128
0xFD:135  i16x8.extend_low_i8x16_s      -              cvtop                    v128 -> v128
0xFD:136  i16x8.extend_high_i8x16_s     -              cvtop                    v128 -> v128
0xFD:137  i16x8.extend_low_i8x16_u      -              cvtop                    v128 -> v128
0xFD:138  i16x8.extend_high_i8x16_u     -              cvtop                    v128 -> v128
0xFD:139  i16x8.shl                     -              binop                    v128 i32 -> v128
0xFD:140  i16x8.shr_s                   -              binop                    v128 i32 -> v128
0xFD:141  i16x8.shr_u                   -              binop                    v128 i32 -> v128
0xFD:142  i16x8.add                     -              binop                    v128 v128 -> v128
0xFD:143  i16x8.add_sat_s               -              binop                    v128 v128 -> v128
0xFD:144  i16x8.add_sat_u               -              binop                    v128 v128 -> v128
0xFD:145  i16x8.sub                     -              binop                    v128 v128 -> v128
0xFD:146  i16x8.sub_sat_s               -              binop                    v128 v128 -> v128
0xFD:147  i16x8.sub_sat_u               -              binop                    v128 v128 -> v128
0xFD:148  f64x2.nearest                 -              unop,nan                 v128 -> v128
0xFD:149  i16x8.mul                     -              binop                    v128 v128 -> v128
0xFD:150  i16x8.min_s                   -              binop                    v128 v128 -> v128
0xFD:151  i16x8.min_u                   -              binop                    v128 v128 -> v128
0xFD:152  i16x8.max_s                   -              binop                    v128 v128 -> v128
0xFD:153  i16x8.max_u                   -              binop                    v128 v128 -> v128
0xFD:155  i16x8.avgr_u                  -              binop                    v128 v128 -> v128
0xFD:156  i16x8.extmul_low_i8x16_s      -              binop                    v128 v128 -> v128
0xFD:157  i16x8.extmul_high_i8x16_s     -              binop                    v128 v128 -> v128
0xFD:158  i16x8.extmul_low_i8x16_u      -              binop                    v128 v128 -> v128
0xFD:159  i16x8.extmul_high_i8x16_u     -              binop                    v128 v128 -> v128
0xFD:160  i32x4.abs                     -              unop                     v128 -> v128
0xFD:161  i32x4.neg                     -              unop                     v128 -> v128
0xFD:163  i32x4.all_true                -              testop                   v128 -> i32
0xFD:164  i32x4.bitmask                 -              unop                     v128 -> i32
0xFD:167  i32x4.extend_low_i16x8_s      -              cvtop                    v128 -> v128
0xFD:168  i32x4.extend_high_i16x8_s     -              cvtop                    v128 -> v128
0xFD:169  i32x4.extend_low_i16x8_u      -              cvtop                    v128 -> v128
0xFD:170  i32x4.extend_high_i16x8_u     -              cvtop                    v128 -> v128
0xFD:171  i32x4.shl                     -              binop                    v128 i32 -> v128
0xFD:172  i32x4.shr_s                   -              binop                    v128 i32 -> v128
0xFD:173  i32x4.shr_u                   -              binop                    v128 i32 -> v128
0xFD:174  i32x4.add                     -              binop                    v128 v128 -> v128
0xFD:177  i32x4.sub                     -              binop                    v128 v128 -> v128
0xFD:181  i32x4.mul                     -              binop                    v128 v128 -> v128
0xFD:182  i32x4.min_s                   -              binop                    v128 v128 -> v128
0xFD:183  i32x4.min_u                   -              binop                    v128 v128 -> v128
0xFD:184  i32x4.max_s                   -              binop                    v128 v128 -> v128
0xFD:185  i32x4.max_u                   -              binop                    v128 v128 -> v128
0xFD:186  i32x4.dot_i16x8_s             -              binop                    v128 v128 -> v128
0xFD:188  i32x4.extmul_low_i16x8_s      -              binop                    v128 v128 -> v128
0xFD:189  i32x4.extmul_high_i16x8_s     -              binop                    v128 v128 -> v128
0xFD:190  i32x4.extmul_low_i16x8_u      -              binop                    v128 v128 -> v128
0xFD:191  i32x4.extmul_high_i16x8_u     -              binop                    v128 v128 -> v128
0xFD:192  i64x2.abs                     -              unop                     v128 -> v128
0xFD:193  i64x2.neg                     -              unop                     v128 -> v128
0xFD:195  i64x2.all_true                -              testop                   v128 -> i32
0xFD:196  i64x2.bitmask                 -              unop                     v128 -> i32
0xFD:199  i64x2.extend_low_i32x4_s      -              cvtop                    v128 -> v128
0xFD:200  i64x2.extend_high_i32x4_s     -              cvtop                    v128 -> v128
0xFD:201  i64x2.extend_low_i32x4_u      -              cvtop                    v128 -> v128
0xFD:202  i64x2.extend_high_i32x4_u     -              cvtop                    v128 -> v128
0xFD:203  i64x2.shl                     -              binop                    v128 i32 -> v128
0xFD:204  i64x2.shr_s                   -              binop                    v128 i32 -> v128
0xFD:205  i64x2.shr_u                   -              binop                    v128 i32 -> v128
0xFD:206  i64x2.add                     -              binop                    v128 v128 -> v128
0xFD:209  i64x2.sub                     -              binop                    v128 v128 -> v128
0xFD:213  i64x2.mul                     -              binop                    v128 v128 -> v128
0xFD:214  i64x2.eq                      -              relop                    v128 v128 -> v128
0xFD:215  i64x2.ne                      -              relop                    v128 v128 -> v128
0xFD:216  i64x2.lt_s                    -              relop                    v128 v128 -> v128
0xFD:217  i64x2.gt_s                    -              relop                    v128 v128 -> v128
0xFD:218  i64x2.le_s                    -              relop                    v128 v128 -> v128
0xFD:219  i64x2.ge_s                    -              relop                    v128 v128 -> v128
0xFD:220  i64x2.extmul_low_i32x4_s      -              binop                    v128 v128 -> v128
0xFD:221  i64x2.extmul_high_i32x4_s     -              binop                    v128 v128 -> v128
0xFD:222  i64x2.extmul_low_i32x4_u      -              binop                    v128 v128 -> v128
0xFD:223  i64x2.extmul_high_i32x4_u     -              binop                    v128 v128 -> v128
0xFD:224  f32x4.abs                     -              unop                     v128 -> v128
0xFD:225  f32x4.neg                     -              unop                     v128 -> v128
0xFD:227  f32x4.sqrt                    -              unop,nan                 v128 -> v128
0xFD:228  f32x4.add                     -              binop,nan                v128 v128 -> v128
0xFD:229  f32x4.sub                     -              binop,nan                v128 v128 -> v128
0xFD:230  f32x4.mul                     -              binop,nan                v128 v128 -> v128
0xFD:231  f32x4.div                     -              binop,nan                v128 v128 -> v128
0xFD:232  f32x4.min                     -              binop,nan                v128 v128 -> v128
0xFD:233  f32x4.max                     -              binop,nan                v128 v128 -> v128
0xFD:234  f32x4.pmin                    -              binop                    v128 v128 -> v128
0xFD:235  f32x4.pmax                    -              binop                    v128 v128 -> v128
0xFD:236  f64x2.abs                     -              unop                     v128 -> v128
0xFD:237  f64x2.neg                     -              unop                     v128 -> v128
0xFD:239  f64x2.sqrt                    -              unop,nan                 v128 -> v128
0xFD:240  f64x2.add                     -              binop,nan                v128 v128 -> v128
0xFD:241  f64x2.sub                     -              binop,nan                v128 v128 -> v128
0xFD:242  f64x2.mul                     -              binop,nan                v128 v128 -> v128
0xFD:243  f64x2.div                     -              binop,nan                v128 v128 -> v128
0xFD:244  f64x2.min                     -              binop,nan                v128 v128 -> v128
0xFD:245  f64x2.max                     -              binop,nan                v128 v128 -> v128
0xFD:246  f64x2.pmin                    -              binop                    v128 v128 -> v128
0xFD:247  f64x2.pmax                    -              binop                    v128 v128 -> v128
0xFD:248  i32x4.trunc_sat_f32x4_s       -              cvtop                    v128 -> v128
0xFD:249  i32x4.trunc_sat_f32x4_u       -              cvtop                    v128 -> v128
0xFD:250  f32x4.convert_i32x4_s         -              cvtop                    v128 -> v128
0xFD:251  f32x4.convert_i32x4_u         -              cvtop                    v128 -> v128
0xFD:252  i32x4.trunc_sat_f64x2_s_zero  -              cvtop                    v128 -> v128
0xFD:253  i32x4.trunc_sat_f64x2_u_zero  -              cvtop                    v128 -> v128
0xFD:254  f64x2.convert_low_i32x4_s     -              cvtop                    v128 -> v128
0xFD:255  f64x2.convert_low_i32x4_u     -              cvtop                    v128 -> v128
# feature relaxed_simd
0xFD:256  i8x16.relaxed_swizzle              -         binop,relaxed            v128 v128 -> v128
0xFD:257  i32x4.relaxed_trunc_f32x4_s        -         cvtop,relaxed            v128 -> v128
0xFD:258  i32x4.relaxed_trunc_f32x4_u        -         cvtop,relaxed            v128 -> v128
0xFD:259  i32x4.relaxed_trunc_f64x2_s_zero   -         cvtop,relaxed            v128 -> v128
0xFD:260  i32x4.relaxed_trunc_f64x2_u_zero   -         cvtop,relaxed            v128 -> v128
0xFD:261  f32x4.relaxed_madd                 -         ternop,nan,relaxed       v128 v128 v128 -> v128
0xFD:262  f32x4.relaxed_nmadd                -         ternop,nan,relaxed       v128 v128 v128 -> v128
0xFD:263  f64x2.relaxed_madd                 -         ternop,nan,relaxed       v128 v128 v128 -> v128
0xFD:264  f64x2.relaxed_nmadd                -         ternop,nan,relaxed       v128 v128 v128 -> v128
0xFD:265  i8x16.relaxed_laneselect           -         ternop,relaxed           v128 v128 v128 -> v128
0xFD:266  i16x8.relaxed_laneselect           -         ternop,relaxed           v128 v128 v128 -> v128
0xFD:267  i32x4.relaxed_laneselect           -         ternop,relaxed           v128 v128 v128 -> v128
0xFD:268  i64x2.relaxed_laneselect           -         ternop,relaxed           v128 v128 v128 -> v128
0xFD:269  f32x4.relaxed_min                  -         binop,nan,relaxed        v128 v128 -> v128
0xFD:270  f32x4.relaxed_max                  -         binop,nan,relaxed        v128 v128 -> v128
0xFD:271  f64x2.relaxed_min                  -         binop,nan,relaxed        v128 v128 -> v128
0xFD:272  f64x2.relaxed_max                  -         binop,nan,relaxed        v128 v128 -> v128
0xFD:273  i16x8.relaxed_q15mulr_s            -         binop,relaxed            v128 v128 -> v128
0xFD:274  i16x8.relaxed_dot_i8x16_i7x16_s    -         binop,relaxed            v128 v128 -> v128
0xFD:275  i32x4.relaxed_dot_i8x16_i7x16_add_s -        ternop,relaxed           v128 v128 v128 -> v128
"""
