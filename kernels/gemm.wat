;; Row-major float64 matrix product C = op(A) · op(B) in WebAssembly SIMD (f64x2).
;;
;; scripts/build_wasm.ts assembles this file twice into lib/wasm_gemm_bytes.ts: as written, with
;; the fused multiply-add f64x2.relaxed_madd, and with every relaxed_madd rewritten to
;; f64x2.mul + f64x2.add for engines without relaxed SIMD. lib/wasm_kernel.ts copies the operands
;; into this module's memory, calls $gemm, and copies C out.
;;
;; The loop nest is GotoBLAS's (Goto and van de Geijn, "Anatomy of high-performance matrix
;; multiplication", 2008), with block sizes chosen by measurement:
;;
;;   for each block of up to 512 columns of C                       (columnStart)
;;     for each block of up to 256 steps of the inner dimension     (depthStart)
;;       pack that block of op(B) into panels 4 columns wide        (≤ 1 MiB: in L2)
;;       for each block of up to 120 rows of C                      (rowStart)
;;         pack that block of op(A) into panels 5 rows wide         (≤ 240 KiB: in L2)
;;         for each 4-column panel, for each 5-row panel:
;;           the micro-kernel: the 5 × 4 tile of C (+)= A panel · B panel
;;
;; The micro-kernel keeps its tile in 10 f64x2 accumulators; with the two B vectors and the
;; broadcast A value that is 13 of the 15 SIMD registers V8 allocates on x64, so nothing spills
;; (a 6 × 4 tile is ~3% faster with fused multiply-add but spills badly without it).
;;
;; A packed A panel holds, for each step p, the 5 values A[i..i+4][p] side by side; a packed
;; B panel the 4 values B[p][j..j+3]. Packing absorbs the transpositions: an operand is either
;; "contiguous" along the panel's width (A transposed, B as is) or along the depth (A as is,
;; B transposed), and each case has its own packing routine. The last panel of a block is padded
;; with zeros; its tiles are computed into a scratch tile, of which only the valid part is
;; written to C.
;;
;; Addresses are byte offsets into memory 0; every count is at least 1 ($gemm's caller handles
;; the empty products).
(module
  (memory (export "memory") 1)

  ;; Bytes of workspace $gemm needs after its `workspace` argument: packed A (120 × 256
  ;; doubles), packed B (256 × 512 doubles) and the 5 × 4 scratch tile.
  (global (export "workspaceBytes") i32 (i32.const 1294496))

  (func $min (param $x i32) (param $y i32) (result i32)
    (select (local.get $x) (local.get $y) (i32.lt_u (local.get $x) (local.get $y))))

  ;; The 5 × 4 tile at $c, whose rows are $rowBytes apart, is set to ($accumulate = 0) or
  ;; increased by ($accumulate = 1) the product of a packed A panel and a packed B panel over
  ;; $depth steps.
  (func $microKernel
    (param $depth i32) (param $aPanel i32) (param $bPanel i32)
    (param $c i32) (param $rowBytes i32) (param $accumulate i32)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    ;; $cIJ holds C[I][2J], C[I][2J + 1]
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $c40 v128) (local $c41 v128)
    (local $pairsEnd i32)
    ;; Two steps per iteration: A advances 2 × 40 bytes, B 2 × 32 bytes.
    (local.set $pairsEnd
      (i32.add (local.get $bPanel)
        (i32.shl (i32.shr_u (local.get $depth) (i32.const 1)) (i32.const 6))))
    (if (i32.ne (local.get $bPanel) (local.get $pairsEnd))
      (then
        (loop $pairs
          ;; step p
          (local.set $b0 (v128.load offset=0 (local.get $bPanel)))
          (local.set $b1 (v128.load offset=16 (local.get $bPanel)))
          (local.set $a (v128.load64_splat offset=0 (local.get $aPanel)))
          (local.set $c00 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c00)))
          (local.set $c01 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c01)))
          (local.set $a (v128.load64_splat offset=8 (local.get $aPanel)))
          (local.set $c10 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c10)))
          (local.set $c11 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c11)))
          (local.set $a (v128.load64_splat offset=16 (local.get $aPanel)))
          (local.set $c20 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c20)))
          (local.set $c21 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c21)))
          (local.set $a (v128.load64_splat offset=24 (local.get $aPanel)))
          (local.set $c30 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c30)))
          (local.set $c31 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c31)))
          (local.set $a (v128.load64_splat offset=32 (local.get $aPanel)))
          (local.set $c40 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c40)))
          (local.set $c41 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c41)))
          ;; step p + 1
          (local.set $b0 (v128.load offset=32 (local.get $bPanel)))
          (local.set $b1 (v128.load offset=48 (local.get $bPanel)))
          (local.set $a (v128.load64_splat offset=40 (local.get $aPanel)))
          (local.set $c00 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c00)))
          (local.set $c01 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c01)))
          (local.set $a (v128.load64_splat offset=48 (local.get $aPanel)))
          (local.set $c10 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c10)))
          (local.set $c11 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c11)))
          (local.set $a (v128.load64_splat offset=56 (local.get $aPanel)))
          (local.set $c20 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c20)))
          (local.set $c21 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c21)))
          (local.set $a (v128.load64_splat offset=64 (local.get $aPanel)))
          (local.set $c30 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c30)))
          (local.set $c31 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c31)))
          (local.set $a (v128.load64_splat offset=72 (local.get $aPanel)))
          (local.set $c40 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c40)))
          (local.set $c41 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c41)))
          (local.set $aPanel (i32.add (local.get $aPanel) (i32.const 80)))
          (local.set $bPanel (i32.add (local.get $bPanel) (i32.const 64)))
          (br_if $pairs (i32.ne (local.get $bPanel) (local.get $pairsEnd))))))
    ;; the last step when $depth is odd
    (if (i32.and (local.get $depth) (i32.const 1))
      (then
        (local.set $b0 (v128.load offset=0 (local.get $bPanel)))
        (local.set $b1 (v128.load offset=16 (local.get $bPanel)))
        (local.set $a (v128.load64_splat offset=0 (local.get $aPanel)))
        (local.set $c00 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c00)))
        (local.set $c01 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c01)))
        (local.set $a (v128.load64_splat offset=8 (local.get $aPanel)))
        (local.set $c10 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c10)))
        (local.set $c11 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c11)))
        (local.set $a (v128.load64_splat offset=16 (local.get $aPanel)))
        (local.set $c20 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c20)))
        (local.set $c21 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c21)))
        (local.set $a (v128.load64_splat offset=24 (local.get $aPanel)))
        (local.set $c30 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c30)))
        (local.set $c31 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c31)))
        (local.set $a (v128.load64_splat offset=32 (local.get $aPanel)))
        (local.set $c40 (f64x2.relaxed_madd (local.get $a) (local.get $b0) (local.get $c40)))
        (local.set $c41 (f64x2.relaxed_madd (local.get $a) (local.get $b1) (local.get $c41)))))
    (if (local.get $accumulate)
      (then
        (v128.store offset=0 (local.get $c)
          (f64x2.add (v128.load offset=0 (local.get $c)) (local.get $c00)))
        (v128.store offset=16 (local.get $c)
          (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c)
          (f64x2.add (v128.load offset=0 (local.get $c)) (local.get $c10)))
        (v128.store offset=16 (local.get $c)
          (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c)
          (f64x2.add (v128.load offset=0 (local.get $c)) (local.get $c20)))
        (v128.store offset=16 (local.get $c)
          (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c)
          (f64x2.add (v128.load offset=0 (local.get $c)) (local.get $c30)))
        (v128.store offset=16 (local.get $c)
          (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c31)))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c)
          (f64x2.add (v128.load offset=0 (local.get $c)) (local.get $c40)))
        (v128.store offset=16 (local.get $c)
          (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c41))))
      (else
        (v128.store offset=0 (local.get $c) (local.get $c00))
        (v128.store offset=16 (local.get $c) (local.get $c01))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c) (local.get $c10))
        (v128.store offset=16 (local.get $c) (local.get $c11))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c) (local.get $c20))
        (v128.store offset=16 (local.get $c) (local.get $c21))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c) (local.get $c30))
        (v128.store offset=16 (local.get $c) (local.get $c31))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c) (local.get $c40))
        (v128.store offset=16 (local.get $c) (local.get $c41)))))

  ;; Writes ($accumulate = 0) or adds ($accumulate = 1) the top-left $rows × $columns of the
  ;; 5 × 4 scratch $tile into C at $c, whose rows are $rowBytes apart.
  (func $storeEdgeTile
    (param $tile i32) (param $c i32) (param $rowBytes i32)
    (param $rows i32) (param $columns i32) (param $accumulate i32)
    (local $i i32) (local $j i32) (local $target i32) (local $value f64)
    (loop $rowLoop
      (local.set $j (i32.const 0))
      (loop $columnLoop
        (local.set $target (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $value
          (f64.load (i32.add (local.get $tile)
            (i32.shl
              (i32.add (i32.shl (local.get $i) (i32.const 2)) (local.get $j))
              (i32.const 3)))))
        (if (local.get $accumulate)
          (then (local.set $value (f64.add (local.get $value) (f64.load (local.get $target))))))
        (f64.store (local.get $target) (local.get $value))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $columnLoop (i32.lt_u (local.get $j) (local.get $columns))))
      (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rowLoop (i32.lt_u (local.get $i) (local.get $rows)))))

  ;; Packs an operand block that is contiguous along the panel width: element (o, p), for
  ;; o < $count across and p < $depth along the panels, is at $source + 8 o + p $depthStride.
  ;; Writes panels of $width (4 or 5) values per step, $depth steps each, the last one padded
  ;; with zeros. Goes through the depth in bands of 8 steps, panel by panel within a band, so
  ;; that neither reading nor writing walks a power-of-two stride through one cache set.
  (func $packContiguous
    (param $source i32) (param $depthStride i32) (param $count i32) (param $depth i32)
    (param $width i32) (param $target i32)
    (local $widthBytes i32) (local $lastPair i32) (local $panelBytes i32)
    (local $remaining i32) (local $fullEnd i32)
    (local $p i32) (local $bandSteps i32) (local $step i32) (local $lane i32)
    (local $from i32) (local $to i32) (local $panelFrom i32) (local $panelTo i32)
    (local.set $widthBytes (i32.shl (local.get $width) (i32.const 3)))
    ;; A row of a panel is copied as the pairs at bytes 0, 16 and $widthBytes − 16, which
    ;; overlap for width 5 and repeat for width 4.
    (local.set $lastPair (i32.sub (local.get $widthBytes) (i32.const 16)))
    (local.set $panelBytes (i32.mul (local.get $depth) (local.get $widthBytes)))
    (local.set $remaining (i32.rem_u (local.get $count) (local.get $width)))
    (loop $bands
      (local.set $bandSteps (call $min (i32.sub (local.get $depth) (local.get $p)) (i32.const 8)))
      (local.set $panelFrom (local.get $source))
      (local.set $panelTo (local.get $target))
      (local.set $fullEnd
        (i32.add (local.get $source)
          (i32.shl (i32.sub (local.get $count) (local.get $remaining)) (i32.const 3))))
      (if (i32.ne (local.get $panelFrom) (local.get $fullEnd))
        (then
          (loop $panels
            (local.set $from (local.get $panelFrom))
            (local.set $to (local.get $panelTo))
            (local.set $step (local.get $bandSteps))
            (loop $steps
              (v128.store offset=0 (local.get $to) (v128.load offset=0 (local.get $from)))
              (v128.store offset=16 (local.get $to) (v128.load offset=16 (local.get $from)))
              (v128.store (i32.add (local.get $to) (local.get $lastPair))
                (v128.load (i32.add (local.get $from) (local.get $lastPair))))
              (local.set $from (i32.add (local.get $from) (local.get $depthStride)))
              (local.set $to (i32.add (local.get $to) (local.get $widthBytes)))
              (local.set $step (i32.sub (local.get $step) (i32.const 1)))
              (br_if $steps (local.get $step)))
            (local.set $panelFrom (i32.add (local.get $panelFrom) (local.get $widthBytes)))
            (local.set $panelTo (i32.add (local.get $panelTo) (local.get $panelBytes)))
            (br_if $panels (i32.ne (local.get $panelFrom) (local.get $fullEnd))))))
      (if (local.get $remaining)
        (then
          (local.set $step (i32.const 0))
          (loop $steps
            (local.set $lane (i32.const 0))
            (loop $lanes
              (f64.store (i32.add (local.get $panelTo) (i32.shl (local.get $lane) (i32.const 3)))
                (if (result f64) (i32.lt_u (local.get $lane) (local.get $remaining))
                  (then
                    (f64.load
                      (i32.add (local.get $panelFrom) (i32.shl (local.get $lane) (i32.const 3)))))
                  (else (f64.const 0))))
              (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
              (br_if $lanes (i32.lt_u (local.get $lane) (local.get $width))))
            (local.set $panelFrom (i32.add (local.get $panelFrom) (local.get $depthStride)))
            (local.set $panelTo (i32.add (local.get $panelTo) (local.get $widthBytes)))
            (local.set $step (i32.add (local.get $step) (i32.const 1)))
            (br_if $steps (i32.lt_u (local.get $step) (local.get $bandSteps))))))
      (local.set $source
        (i32.add (local.get $source) (i32.shl (local.get $depthStride) (i32.const 3))))
      (local.set $target
        (i32.add (local.get $target) (i32.shl (local.get $widthBytes) (i32.const 3))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br_if $bands (i32.lt_u (local.get $p) (local.get $depth)))))

  ;; Packs an operand block that is contiguous along the depth: element (o, p), for o < $count
  ;; across and p < $depth along the panels, is at $source + o $outerStride + 8 p. Writes panels
  ;; of $width (4 or 5) values per step, $depth steps each, the last one padded with zeros.
  ;; Reads $width rows side by side, two steps at a time, and interleaves them with shuffles.
  (func $packInterleaved
    (param $source i32) (param $outerStride i32) (param $count i32) (param $depth i32)
    (param $width i32) (param $target i32)
    (local $widthBytes i32) (local $remaining i32) (local $fullEnd i32)
    (local $pairs i32) (local $step i32) (local $lane i32) (local $next i32)
    (local $x v128) (local $y v128)
    (local $row0 i32) (local $row1 i32) (local $row2 i32) (local $row3 i32) (local $row4 i32)
    (local.set $widthBytes (i32.shl (local.get $width) (i32.const 3)))
    (local.set $remaining (i32.rem_u (local.get $count) (local.get $width)))
    (local.set $fullEnd
      (i32.add (local.get $source)
        (i32.mul (i32.sub (local.get $count) (local.get $remaining)) (local.get $outerStride))))
    (if (i32.ne (local.get $source) (local.get $fullEnd))
      (then
        (loop $panels
          (local.set $row0 (local.get $source))
          (local.set $row1 (i32.add (local.get $row0) (local.get $outerStride)))
          (local.set $row2 (i32.add (local.get $row1) (local.get $outerStride)))
          (local.set $row3 (i32.add (local.get $row2) (local.get $outerStride)))
          (local.set $row4 (i32.add (local.get $row3) (local.get $outerStride)))
          (local.set $pairs (i32.shr_u (local.get $depth) (i32.const 1)))
          (if (local.get $pairs)
            (then
              (loop $stepPairs
                ;; $target gets step p, $next step p + 1
                (local.set $next (i32.add (local.get $target) (local.get $widthBytes)))
                (local.set $x (v128.load (local.get $row0)))
                (local.set $y (v128.load (local.get $row1)))
                (v128.store offset=0 (local.get $target)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                    (local.get $x) (local.get $y)))
                (v128.store offset=0 (local.get $next)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
                    (local.get $x) (local.get $y)))
                (local.set $x (v128.load (local.get $row2)))
                (local.set $y (v128.load (local.get $row3)))
                (v128.store offset=16 (local.get $target)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                    (local.get $x) (local.get $y)))
                (v128.store offset=16 (local.get $next)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
                    (local.get $x) (local.get $y)))
                (if (i32.eq (local.get $width) (i32.const 5))
                  (then
                    (f64.store offset=32 (local.get $target) (f64.load offset=0 (local.get $row4)))
                    (f64.store offset=32 (local.get $next) (f64.load offset=8 (local.get $row4)))))
                (local.set $row0 (i32.add (local.get $row0) (i32.const 16)))
                (local.set $row1 (i32.add (local.get $row1) (i32.const 16)))
                (local.set $row2 (i32.add (local.get $row2) (i32.const 16)))
                (local.set $row3 (i32.add (local.get $row3) (i32.const 16)))
                (local.set $row4 (i32.add (local.get $row4) (i32.const 16)))
                (local.set $target (i32.add (local.get $next) (local.get $widthBytes)))
                (local.set $pairs (i32.sub (local.get $pairs) (i32.const 1)))
                (br_if $stepPairs (local.get $pairs)))))
          (if (i32.and (local.get $depth) (i32.const 1))
            (then
              (f64.store offset=0 (local.get $target) (f64.load (local.get $row0)))
              (f64.store offset=8 (local.get $target) (f64.load (local.get $row1)))
              (f64.store offset=16 (local.get $target) (f64.load (local.get $row2)))
              (f64.store offset=24 (local.get $target) (f64.load (local.get $row3)))
              (if (i32.eq (local.get $width) (i32.const 5))
                (then (f64.store offset=32 (local.get $target) (f64.load (local.get $row4)))))
              (local.set $target (i32.add (local.get $target) (local.get $widthBytes)))))
          (local.set $source
            (i32.add (local.get $source) (i32.mul (local.get $outerStride) (local.get $width))))
          (br_if $panels (i32.ne (local.get $source) (local.get $fullEnd))))))
    (if (local.get $remaining)
      (then
        (local.set $step (i32.const 0))
        (loop $steps
          (local.set $lane (i32.const 0))
          (loop $lanes
            (f64.store (i32.add (local.get $target) (i32.shl (local.get $lane) (i32.const 3)))
              (if (result f64) (i32.lt_u (local.get $lane) (local.get $remaining))
                (then
                  (f64.load
                    (i32.add (local.get $source)
                      (i32.add (i32.mul (local.get $lane) (local.get $outerStride))
                        (i32.shl (local.get $step) (i32.const 3))))))
                (else (f64.const 0))))
            (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
            (br_if $lanes (i32.lt_u (local.get $lane) (local.get $width))))
          (local.set $target (i32.add (local.get $target) (local.get $widthBytes)))
          (local.set $step (i32.add (local.get $step) (i32.const 1)))
          (br_if $steps (i32.lt_u (local.get $step) (local.get $depth)))))))

  ;; C (m × n at $c, row-major) = op(A) · op(B), where $a holds A (m × k, or k × m when
  ;; $transposeA) and $b holds B (k × n, or n × k when $transposeB), all row-major float64.
  ;; $workspace points at `workspaceBytes` bytes that overlap none of them. m, n, k ≥ 1.
  (func (export "gemm")
    (param $transposeA i32) (param $transposeB i32)
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $b i32) (param $c i32) (param $workspace i32)
    (local $aPacked i32) (local $bPacked i32) (local $tile i32) (local $rowBytes i32)
    (local $columnStart i32) (local $depthStart i32) (local $rowStart i32)
    (local $columns i32) (local $depth i32) (local $rows i32)
    (local $panelColumn i32) (local $panelRow i32) (local $panelStride i32)
    (local $aPanel i32) (local $bPanel i32) (local $cTile i32)
    (local $tileRows i32) (local $tileColumns i32) (local $accumulate i32)
    (local.set $aPacked (local.get $workspace))
    (local.set $bPacked (i32.add (local.get $aPacked) (i32.const 245760))) ;; 120 × 256 × 8
    (local.set $tile (i32.add (local.get $bPacked) (i32.const 1048576))) ;; 256 × 512 × 8
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 3)))
    (loop $columnBlocks
      (local.set $columns
        (call $min (i32.sub (local.get $n) (local.get $columnStart)) (i32.const 512)))
      (local.set $depthStart (i32.const 0))
      (loop $depthBlocks
        (local.set $depth
          (call $min (i32.sub (local.get $k) (local.get $depthStart)) (i32.const 256)))
        ;; the first depth block writes C, the later ones add to it
        (local.set $accumulate (i32.ne (local.get $depthStart) (i32.const 0)))
        ;; a panel of either operand is 8 × $depth bytes per lane
        (local.set $panelStride (i32.shl (local.get $depth) (i32.const 3)))
        (if (local.get $transposeB)
          (then
            (call $packInterleaved
              (i32.add (local.get $b)
                (i32.shl
                  (i32.add
                    (i32.mul (local.get $columnStart) (local.get $k)) (local.get $depthStart))
                  (i32.const 3)))
              (i32.shl (local.get $k) (i32.const 3))
              (local.get $columns) (local.get $depth) (i32.const 4) (local.get $bPacked)))
          (else
            (call $packContiguous
              (i32.add (local.get $b)
                (i32.shl
                  (i32.add
                    (i32.mul (local.get $depthStart) (local.get $n)) (local.get $columnStart))
                  (i32.const 3)))
              (local.get $rowBytes)
              (local.get $columns) (local.get $depth) (i32.const 4) (local.get $bPacked))))
        (local.set $rowStart (i32.const 0))
        (loop $rowBlocks
          (local.set $rows
            (call $min (i32.sub (local.get $m) (local.get $rowStart)) (i32.const 120)))
          (if (local.get $transposeA)
            (then
              (call $packContiguous
                (i32.add (local.get $a)
                  (i32.shl
                    (i32.add (i32.mul (local.get $depthStart) (local.get $m)) (local.get $rowStart))
                    (i32.const 3)))
                (i32.shl (local.get $m) (i32.const 3))
                (local.get $rows) (local.get $depth) (i32.const 5) (local.get $aPacked)))
            (else
              (call $packInterleaved
                (i32.add (local.get $a)
                  (i32.shl
                    (i32.add (i32.mul (local.get $rowStart) (local.get $k)) (local.get $depthStart))
                    (i32.const 3)))
                (i32.shl (local.get $k) (i32.const 3))
                (local.get $rows) (local.get $depth) (i32.const 5) (local.get $aPacked))))
          (local.set $panelColumn (i32.const 0))
          (loop $columnPanels
            (local.set $bPanel
              (i32.add (local.get $bPacked)
                (i32.mul (local.get $panelColumn) (local.get $panelStride))))
            (local.set $tileColumns (i32.sub (local.get $columns) (local.get $panelColumn)))
            (local.set $panelRow (i32.const 0))
            (loop $rowPanels
              (local.set $aPanel
                (i32.add (local.get $aPacked)
                  (i32.mul (local.get $panelRow) (local.get $panelStride))))
              (local.set $cTile
                (i32.add (local.get $c)
                  (i32.shl
                    (i32.add
                      (i32.mul (i32.add (local.get $rowStart) (local.get $panelRow)) (local.get $n))
                      (i32.add (local.get $columnStart) (local.get $panelColumn)))
                    (i32.const 3))))
              (local.set $tileRows (i32.sub (local.get $rows) (local.get $panelRow)))
              (if (i32.and
                    (i32.ge_u (local.get $tileRows) (i32.const 5))
                    (i32.ge_u (local.get $tileColumns) (i32.const 4)))
                (then
                  (call $microKernel (local.get $depth) (local.get $aPanel) (local.get $bPanel)
                    (local.get $cTile) (local.get $rowBytes) (local.get $accumulate)))
                (else
                  (call $microKernel (local.get $depth) (local.get $aPanel) (local.get $bPanel)
                    (local.get $tile) (i32.const 32) (i32.const 0))
                  (call $storeEdgeTile (local.get $tile) (local.get $cTile) (local.get $rowBytes)
                    (call $min (local.get $tileRows) (i32.const 5))
                    (call $min (local.get $tileColumns) (i32.const 4))
                    (local.get $accumulate))))
              (local.set $panelRow (i32.add (local.get $panelRow) (i32.const 5)))
              (br_if $rowPanels (i32.lt_u (local.get $panelRow) (local.get $rows))))
            (local.set $panelColumn (i32.add (local.get $panelColumn) (i32.const 4)))
            (br_if $columnPanels (i32.lt_u (local.get $panelColumn) (local.get $columns))))
          (local.set $rowStart (i32.add (local.get $rowStart) (i32.const 120)))
          (br_if $rowBlocks (i32.lt_u (local.get $rowStart) (local.get $m))))
        (local.set $depthStart (i32.add (local.get $depthStart) (i32.const 256)))
        (br_if $depthBlocks (i32.lt_u (local.get $depthStart) (local.get $k))))
      (local.set $columnStart (i32.add (local.get $columnStart) (i32.const 512)))
      (br_if $columnBlocks (i32.lt_u (local.get $columnStart) (local.get $n))))))
