;; The loops of core's PosencGatherLast and PosencScatterAddLast on the wasm host's own heap:
;; the module imports the host backend's memory, and every pointer is a byte offset into it.
;; `gather-loops.ts` embeds the assembled bytes; its test checks they are this file's assembly
;; (wabt's wat2wasm, default features). Indices are checked in range by the caller.
(module
  (import "host" "memory" (memory 0))

  ;; to[r·picks + p] = from[r·size + ids[p]] for r < rows, p < picks.
  (func (export "gather")
    (param $from i32) (param $size i32) (param $ids i32) (param $picks i32)
    (param $to i32) (param $rows i32)
    (local $id i32) (local $end i32)
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.eqz (local.get $rows)))
        (local.set $id (local.get $ids))
        (local.set $end (i32.add (local.get $ids) (i32.shl (local.get $picks) (i32.const 2))))
        (block $picks_done
          (loop $each_pick
            (br_if $picks_done (i32.ge_u (local.get $id) (local.get $end)))
            (f32.store
              (local.get $to)
              (f32.load
                (i32.add (local.get $from) (i32.shl (i32.load (local.get $id)) (i32.const 2)))))
            (local.set $to (i32.add (local.get $to) (i32.const 4)))
            (local.set $id (i32.add (local.get $id) (i32.const 4)))
            (br $each_pick)))
        (local.set $from (i32.add (local.get $from) (i32.shl (local.get $size) (i32.const 2))))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $each_row))))

  ;; to[r·size + ids[p]] += from[r·picks + p] over p, for r < rows, with `to` zeroed first.
  ;; A run of equal ids is summed in a register (in f64, as the JS loop sums) and added once:
  ;; iRPE's ids repeat in long runs, and an add to the address just stored waits on that store.
  (func (export "scatterAdd")
    (param $from i32) (param $picks i32) (param $ids i32) (param $to i32)
    (param $size i32) (param $rows i32)
    (local $id i32) (local $end i32) (local $run i32) (local $next i32) (local $sum f64)
    (local $cell i32)
    (memory.fill
      (local.get $to) (i32.const 0)
      (i32.shl (i32.mul (local.get $size) (local.get $rows)) (i32.const 2)))
    (if (i32.eqz (local.get $picks)) (then (return)))
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.eqz (local.get $rows)))
        (local.set $id (local.get $ids))
        (local.set $end (i32.add (local.get $ids) (i32.shl (local.get $picks) (i32.const 2))))
        (local.set $run (i32.load (local.get $ids)))
        (local.set $sum (f64.const 0))
        (block $picks_done
          (loop $each_pick
            (br_if $picks_done (i32.ge_u (local.get $id) (local.get $end)))
            (local.set $next (i32.load (local.get $id)))
            (if (i32.ne (local.get $next) (local.get $run))
              (then
                (local.set $cell
                  (i32.add (local.get $to) (i32.shl (local.get $run) (i32.const 2))))
                (f32.store
                  (local.get $cell)
                  (f32.demote_f64
                    (f64.add (f64.promote_f32 (f32.load (local.get $cell))) (local.get $sum))))
                (local.set $run (local.get $next))
                (local.set $sum (f64.const 0))))
            (local.set $sum
              (f64.add (local.get $sum) (f64.promote_f32 (f32.load (local.get $from)))))
            (local.set $from (i32.add (local.get $from) (i32.const 4)))
            (local.set $id (i32.add (local.get $id) (i32.const 4)))
            (br $each_pick)))
        (local.set $cell (i32.add (local.get $to) (i32.shl (local.get $run) (i32.const 2))))
        (f32.store
          (local.get $cell)
          (f32.demote_f64
            (f64.add (f64.promote_f32 (f32.load (local.get $cell))) (local.get $sum))))
        (local.set $to (i32.add (local.get $to) (i32.shl (local.get $size) (i32.const 2))))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $each_row)))))
