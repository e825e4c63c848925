(module
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $double $negate)
  (type $unary (func (param i32) (result i32)))
  (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $negate (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
  ;; Loops, a switch, an early exit from a nested loop, memory and an indirect call.
  (func (export "run") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (block $done
      (loop $outer
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (block $c2 (block $c1 (block $c0
          (br_table $c0 $c1 $c2 (i32.rem_u (local.get $i) (i32.const 3))))
          (local.set $acc (i32.add (local.get $acc) (i32.const 1))) (br $c2))
          (local.set $acc (call_indirect (type $unary) (local.get $acc) (i32.const 0))))
        (i32.store (i32.const 16) (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (i32.add (i32.load (i32.const 16)) (local.get $i))))
