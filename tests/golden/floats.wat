(module
  ;; Constants that must print exactly: NaN payloads, signed zeros, infinities, hex floats.
  (func (export "consts") (param $x f32) (result f32)
    (f32.add
      (f32.copysign (f32.abs (local.get $x)) (f32.const -nan:0x200001))
      (f32.min (f32.const -0x0p+0) (f32.max (f32.const inf) (f32.const 0x1.fffffep+127)))))
  ;; Arithmetic, comparison, rounding and conversion in both widths.
  (func (export "mix") (param $a f64) (param $b f32) (result i64)
    (local $t f64)
    (local.set $t (f64.sqrt (f64.div (local.get $a) (f64.promote_f32 (local.get $b)))))
    (select
      (i64.trunc_f64_s (f64.nearest (local.get $t)))
      (i64.reinterpret_f64 (f64.neg (f64.trunc (local.get $t))))
      (i32.and (f64.lt (local.get $a) (f64.const 0x1p-1022))
               (f32.ne (f32.demote_f64 (local.get $a)) (f32.floor (local.get $b))))))
  (func (export "ints") (param $i i64) (result f32)
    (f32.sub (f32.convert_i64_u (local.get $i))
             (f32.reinterpret_i32 (i32.wrap_i64 (i64.rotl (local.get $i) (i64.const 7)))))))
