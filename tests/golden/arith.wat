(module
  (global $g (mut i64) (i64.const 5))
  (func (export "mix") (param $a i32) (param $b f64) (result i64)
    (global.set $g (i64.add (global.get $g) (i64.extend_i32_s (local.get $a))))
    (select
      (i64.trunc_sat_f64_s (f64.mul (local.get $b) (f64.const 2.5)))
      (i64.shr_s (global.get $g) (i64.const 1))
      (i32.lt_s (local.get $a) (i32.const 0)))))
