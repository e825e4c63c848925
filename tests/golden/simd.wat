(module
  (memory 1)
  ;; v128 constants, lanes, shuffles, integer and float lane arithmetic, loads and stores.
  (func (export "lanes") (param $p i32) (param $x i32) (result i32)
    (local $v v128)
    (local.set $v (i32x4.add (v128.load offset=16 (local.get $p))
                             (v128.const i32x4 1 -2 0x7fffffff 0x80000000)))
    (local.set $v (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31
                    (local.get $v) (i8x16.splat (local.get $x))))
    (local.set $v (i16x8.replace_lane 3 (local.get $v) (i32.const 9)))
    (v128.store (local.get $p) (i8x16.swizzle (local.get $v) (v128.const i8x16 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 200)))
    (v128.store8_lane offset=40 5 (local.get $p) (local.get $v))
    (i32.add (i32x4.extract_lane 2 (local.get $v))
             (i32.add (i8x16.extract_lane_u 15 (local.get $v))
                      (i32x4.bitmask (i32x4.lt_s (local.get $v) (v128.const i64x2 0 -1))))))
  (func (export "floats") (param $a f32) (result f64)
    (f64x2.extract_lane 1
      (f64x2.promote_low_f32x4
        (f32x4.min (f32x4.splat (local.get $a))
                   (f32x4.sqrt (v128.const f32x4 -0.0 nan:0x1 inf 2.5)))))))
