"""Engine hooks: the attributes of runtime objects that engines set and read, in one place.

Runtime objects are engine-neutral (an instance on one engine imports what another
exported), so what an engine keeps on them is named here and nowhere else: these names
are public by convention (for engines and tools, not part of the user API), everything
else with a leading underscore is private to the runtime, and tests/test_layers.py checks
that no package uses another's underscore names.

Func
  ``raw``     the raw callable: raw arguments in, None / one raw value / a tuple out, no
              conversions (values.py has the raw representation). Set by whoever makes
              the Func: ``Func(fn, type)`` wraps a host callable; an engine passes its own
              to ``Func.from_raw`` (the python engine fills it in once its code exists,
              the jit replaces it when a function tiers up). Every engine calls it to call
              a function it did not make.
  ``owner``   the engine object behind the function, so an engine knows its own: the
              interpreter's Code (it runs the body itself instead of calling ``raw``), the
              jit's InstanceState (kept alive as long as the Func is), the python
              engine's support.Generated (the generated function, which takes the call
              depth last; ``raw`` is its entry wrapper). For a function that makes tail
              calls ``owner.call`` is its trampoline, whose ``tail_body`` is the body
              that returns TailCalls (support.tail_entry), so trampolines chain flat.
              None for host functions.
  ``native``  the jit's NativeRef (translator/llvm/references.py): the address of the
              function's record in native memory. The jit sets it on its own functions at
              instantiation and on any other Func the first time native code needs it (a
              host record); None until then.
  ``Func.from_raw(raw, type, name, owner=None)``  a Func around an engine's raw callable.

Table
  ``native``  the jit's mirror of the elements (translator/llvm/natives.TableMirror, with
              ``grown(table, old)`` and ``changed(table, start, n)``), or None.
              ``Table.grow`` and ``Table.set`` keep it in step; code that writes
              ``elements`` directly calls ``table.sync(start, n)`` afterwards.

Global
  ``native``  the jit's native cell (it switches the object's class so that ``raw`` reads
              and writes the cell), or None.
  ``cell``    the python engine's closure variable of a global only its code sees
              (globals.bind_cells switches the class to CellGlobal, whose ``raw`` reads
              and writes the variable), or None. With both, ``raw`` is the live value on
              every engine, which is what snapshots read and write.

Instance
  ``engine_state``  the engine's own per-instance state, kept alive with the instance (the
                    interpreter's Context, the jit's InstanceState; None on the python
                    engine). Tools reach an instance's internal tables through it.
  ``account``       the resources.Account charged for what the instance defines (for
                    ``usage()``); every engine sets it.
  ``budget``        the Budget of an instance made with fuel=, deadline= or interrupt=
                    (for ``get_fuel()``, ``interrupt()`` and the rest), else None.
  ``snapshot_refusal``  why ``snapshot()`` must refuse the instance (the python engine's
                    instance of a file translated for interface 4), else None. Every
                    other part of a snapshot is read through the runtime objects alone:
                    the index spaces, ``elems``/``datas`` (which every engine keeps as
                    the linking step made them, data.drop and elem.drop included) and
                    ``wasi``.
"""
from __future__ import annotations

# class name -> its engine hooks (tests/test_layers.py checks that each class has them).
HOOKS = {
    "Func": ("raw", "owner", "native", "from_raw"),
    "Table": ("native", "sync"),
    "Global": ("native", "cell"),
    "Instance": ("engine_state", "account", "budget", "snapshot_refusal"),
}

__all__ = ["HOOKS"]
