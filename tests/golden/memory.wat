(module
  (memory $m 1 4)
  (data (i32.const 8) "fay\00\ff")
  (data $tail "passive\n")
  ;; Loads and stores of every width and sign, with offsets and alignments.
  (func (export "widths") (param $p i32) (result i64)
    (i32.store8 offset=1 (local.get $p) (i32.const -1))
    (i32.store16 align=1 (local.get $p) (i32.const 0x1234))
    (i64.store32 offset=4 (local.get $p) (i64.const -2))
    (f32.store offset=16 (local.get $p) (f32.const 1.5))
    (f64.store offset=24 align=4 (local.get $p) (f64.const -0.25))
    (i64.add
      (i64.add (i64.load8_s (local.get $p)) (i64.load8_u offset=1 (local.get $p)))
      (i64.add
        (i64.extend_i32_u (i32.add (i32.load16_s (local.get $p)) (i32.load16_u (local.get $p))))
        (i64.add (i64.load32_s offset=4 (local.get $p)) (i64.load32_u offset=4 (local.get $p))))))
  ;; Size, grow and the bulk operations.
  (func (export "bulk") (param $n i32) (result i32)
    (drop (memory.grow (local.get $n)))
    (memory.fill (i32.const 100) (i32.const 7) (i32.const 16))
    (memory.copy (i32.const 200) (i32.const 100) (i32.const 16))
    (memory.init $tail (i32.const 300) (i32.const 0) (i32.const 8))
    (data.drop $tail)
    (i32.add (memory.size) (i32.load8_u (i32.const 207)))))
