"""The IR: one function at a time, typed, with structured control flow and with operand-
stack positions turned into variables. Both lowerings (translator/python and
translator/llvm) start from it.

Built by ``build.build_function(module, info, index)`` from a validated function body and
the facts the validator recorded (stack heights, block signatures, dead code).

Variables
  ``Local(index, type)``   a wasm local (parameters first, then declared locals).
  ``Slot(height, type)``   the operand-stack position ``height`` (0 = bottom of the
                           function's operand stack) holding a value of ``type``. A lowering
                           may key slots by (height, type): values of different types at the
                           same height never live at the same time, but a typed target (LLVM)
                           needs one variable per pair.

Expressions (``Expr``: ``.type`` is a ValType; none has side effects other than trapping)
  ``Const(type, value)``   a raw value (see fayasm.runtime.values for raw representations).
  ``Local``/``Slot``       the variable's current value.
  ``Op(op, args, imm)``    an instruction of the table (``op`` is a fayasm.isa.Opcode) applied to
                           argument expressions in wasm operand order, with its immediates
                           ``imm`` as the decoder stores them. This covers numeric and SIMD
                           operations, loads (``memarg`` immediate, args = (address,) or
                           (address, vector) for lane loads), ``select`` (args = (a, b, cond)),
                           ``global.get``, ``memory.size``, ``table.get``, ``table.size``,
                           ``ref.null``, ``ref.func``, ``ref.is_null`` and ``ref.as_non_null``
                           (which traps "null reference").
  ``op_traps(op)`` tells whether an Op may trap; ``Expr.pure`` is False when evaluating the
  expression may trap or reads mutable state (memory, tables, mutable globals).
  Arguments are evaluated left to right, then the operation; a lowering must preserve
  that order (it is the wasm order, and it decides which trap wins).

Statements (a function body and every block body is a list of them, run in order)
  ``Set(var, expr)``              assign; when ``expr`` is an Op whose ``op_effects`` is true
                                  (``memory.grow``, ``table.grow``) the assignment also has
                                  that effect.
  ``Effect(op, args, imm)``       an instruction run only for its effect: stores, lane
                                  stores, ``memory.fill/copy/init``, ``data.drop``,
                                  ``table.set/fill/copy/init``, ``elem.drop``.
  ``Drop(expr)``                  evaluate an impure expression and discard it (it may trap).
  ``GlobalSet(index, expr)``
  ``Call(func, args, results)``   call function ``func`` (index space, imports first) with
                                  argument expressions; assign its results to ``results``
                                  (a tuple of Slots).
  ``CallIndirect(type_index, table, args, index, results)``  ``index`` (an Expr, evaluated
                                  after the args) selects the table element; traps
                                  "undefined element" / "uninitialized element" /
                                  "indirect call type mismatch" as the spec says.
                                  With ``table`` None it is ``call_ref``: ``index`` is the
                                  function reference itself (null traps "null function
                                  reference"; validation guarantees its type).
  ``Block(label, body)``          ``body`` runs; a branch to ``label`` continues after the block.
  ``Loop(label, body)``           ``body`` runs; a branch to ``label`` runs the body again;
                                  falling off the end of the body leaves the loop.
  ``If(label, cond, then, else_)``  ``cond`` is an i32 Expr; non-zero runs ``then``, zero
                                  ``else_`` (possibly empty); a branch to ``label`` continues
                                  after the if.
  ``Br(label, values)``           branch; ``values`` (Exprs) go to ``label.slots`` first.
  ``BrIf(label, cond, values)``   branch if ``cond`` is non-zero; ``values`` are Slots that
                                  also stay where they are when the branch is not taken.
  ``BrTable(index, labels, default, values)``  branch to ``labels[index]``, or ``default``
                                  when index is out of range; ``values`` as for BrIf.
  ``Return(values)``              return ``values`` (Exprs) from the function.
  ``TailCall(func, type_index, table, args, index)``  return_call (``func``, ``index``
                                  None) or return_call_indirect (``index`` an Expr, checked
                                  as for CallIndirect): the callee's results are the
                                  function's; the callee's frame replaces this one, so a
                                  chain of tail calls does not grow the stack.
  ``Unreachable()``               trap "unreachable".
  ``Throw(tag, args)``            throw a new exception of ``tag`` with ``args`` (Exprs).
  ``ThrowRef(ref)``               throw the exception the exnref ``ref`` holds (null traps
                                  "null exception reference").
  ``TryTable(label, catches, body)``  a block whose exceptions go to ``catches``, each
                                  ``(kind, tag or None, target label)``: the first whose tag
                                  is the exception's (or catch_all) branches to its target
                                  with the payload (and the exnref for catch_ref and
                                  catch_all_ref) in the target's slots. The legacy
                                  ``try``/``catch``/``delegate``/``rethrow`` are built as
                                  TryTables, Blocks and ThrowRefs (build.py).

Labels: ``Label(id, kind, height, types)``; ``kind`` is "block", "loop", "if" or "function";
``label.slots`` are the Slots a branch to it fills: ``Slot(height + k, types[k])``. The
function body is the body of a Block whose label has kind "function": a branch to it is a
return. Values that flow out of a block by falling off its end are left in the same slots
``Slot(height + k, results[k])``, so after any block, loop or if its results are in slots.
When control enters a block, loop or if, every value on the operand stack is in its Slot.
"""
from .nodes import (
                    Block,
                    Br,
                    BrIf,
                    BrTable,
                    Call,
                    CallIndirect,
                    Const,
                    Drop,
                    Effect,
                    Expr,
                    Function,
                    GlobalSet,
                    If,
                    Label,
                    Local,
                    Loop,
                    Op,
                    Return,
                    Set,
                    Slot,
                    TailCall,
                    Throw,
                    ThrowRef,
                    TryTable,
                    Unreachable,
                    op_effects,
                    op_traps,
)

__all__ = ["Block", "Br", "BrIf", "BrTable", "Call", "CallIndirect", "Const", "Drop", "Effect",
           "Expr", "Function", "GlobalSet", "If", "Label", "Local", "Loop", "Op", "Return",
           "Set", "Slot", "TailCall", "Throw", "ThrowRef", "TryTable", "Unreachable",
           "op_effects", "op_traps"]
