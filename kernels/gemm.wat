;; Row-major matrix products C = op(A) · op(B) in WebAssembly SIMD: $gemm64 on float64 (f64x2
;; lanes, 5 × 4 tiles) and $gemm32 on float32 (f32x4 lanes, 5 × 8 tiles).
;;
;; scripts/build_wasm.ts assembles this file into lib/wasm_gemm_bytes.ts four times: as written,
;; with the fused multiply-adds f64x2.relaxed_madd and f32x4.relaxed_madd, and with every
;; relaxed_madd rewritten to a mul then an add for engines without relaxed SIMD; each of the two
;; once with the memory below and once importing a shared memory (env.memory) instead, for the
;; two-thread kernel. lib/wasm_kernel.ts copies the operands into the memory, calls an export,
;; and copies C out.
;;
;; The loop nest is GotoBLAS's (Goto and van de Geijn, "Anatomy of high-performance matrix
;; multiplication", 2008), with block sizes chosen by measurement; one driver, $gemm, runs it for
;; both element types:
;;
;;   for each block of up to 512 columns of C                       (columnStart)
;;     for each block of up to 256 (float64) or 512 (float32) steps of the inner dimension
;;       pack that block of op(B) into panels 4 (float64) or 8 (float32) columns wide (1 MiB)
;;       for each block of up to 120 rows of C                      (rowStart)
;;         pack that block of op(A) into panels 5 rows wide         (240 KiB: in L2)
;;         for each column panel, for each 5-row panel:
;;           the micro-kernel: the 5 × 4 or 5 × 8 tile of C (+)= A panel · B panel
;;
;; A micro-kernel keeps its tile in 10 accumulators; with the two B vectors and the broadcast
;; A value that is 13 of the 15 SIMD registers V8 allocates on x64, so nothing spills (a 6 × 4
;; float64 tile is ~3% faster with fused multiply-add but spills badly without it). Both read
;; 32 bytes of B a step; the float32 one does twice the multiply-adds with them.
;;
;; A packed A panel holds, for each step p, the 5 values A[i..i+4][p] side by side; a packed
;; B panel the 4 or 8 values B[p][j..j+w−1]. Packing absorbs the transpositions: an operand is
;; either "contiguous" along the panel's width (A transposed, B as is) or along the depth (A as
;; is, B transposed). Contiguous packing is one routine for both element types; interleaving
;; transposes small blocks in registers and has one routine each. The last panel of a block is
;; padded with zeros; its tiles are computed into a scratch tile, of which only the valid part is
;; written to C.
;;
;; Operands are addressed BLAS-style: a pointer and a leading dimension (the elements between
;; consecutive rows as stored), so that a caller can multiply a block of rows or columns of C in
;; place. Addresses are byte offsets into memory 0; every count is at least 1 (the callers
;; handle the empty products).
(module
  (memory (export "memory") 1)

  ;; Bytes of workspace $gemm64 and $gemm32 need after their `workspace` argument: packed A
  ;; (120 rows × 256 doubles or 512 floats), packed B (256 doubles or 512 floats × 512 columns)
  ;; and the 5 × 32-byte scratch tile.
  (global (export "workspaceBytes") i32 (i32.const 1294496))

  (func $min (param $x i32) (param $y i32) (result i32)
    (select (local.get $x) (local.get $y) (i32.lt_u (local.get $x) (local.get $y))))

  ;; The float64 micro-kernel: the 5 × 4 tile at $c, whose rows are $rowBytes apart, is set to
  ;; ($accumulate = 0) or increased by ($accumulate = 1) the product of a packed A panel (5
  ;; doubles a step) and a packed B panel (4 doubles a step) over $depth steps.
  (func $microKernel64
    (param $depth i32) (param $aPanel i32) (param $bPanel i32)
    (param $c i32) (param $rowBytes i32) (param $accumulate i32)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    ;; $cIJ holds the lanes of C[I] in bytes 16 J to 16 J + 15 of the tile row
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

  ;; The float32 micro-kernel: as $microKernel64 for a 5 × 8 tile of floats, from A panels of 5
  ;; floats a step and B panels of 8 floats a step: the same 10 accumulators and 32 bytes of B a
  ;; step, twice the multiply-adds.
  (func $microKernel32
    (param $depth i32) (param $aPanel i32) (param $bPanel i32)
    (param $c i32) (param $rowBytes i32) (param $accumulate i32)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    ;; $cIJ holds the lanes of C[I] in bytes 16 J to 16 J + 15 of the tile row
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $c40 v128) (local $c41 v128)
    (local $pairsEnd i32)
    ;; Two steps per iteration: A advances 2 × 20 bytes, B 2 × 32 bytes.
    (local.set $pairsEnd
      (i32.add (local.get $bPanel)
        (i32.shl (i32.shr_u (local.get $depth) (i32.const 1)) (i32.const 6))))
    (if (i32.ne (local.get $bPanel) (local.get $pairsEnd))
      (then
        (loop $pairs
          ;; step p
          (local.set $b0 (v128.load offset=0 (local.get $bPanel)))
          (local.set $b1 (v128.load offset=16 (local.get $bPanel)))
          (local.set $a (v128.load32_splat offset=0 (local.get $aPanel)))
          (local.set $c00 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c00)))
          (local.set $c01 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c01)))
          (local.set $a (v128.load32_splat offset=4 (local.get $aPanel)))
          (local.set $c10 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c10)))
          (local.set $c11 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c11)))
          (local.set $a (v128.load32_splat offset=8 (local.get $aPanel)))
          (local.set $c20 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c20)))
          (local.set $c21 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c21)))
          (local.set $a (v128.load32_splat offset=12 (local.get $aPanel)))
          (local.set $c30 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c30)))
          (local.set $c31 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c31)))
          (local.set $a (v128.load32_splat offset=16 (local.get $aPanel)))
          (local.set $c40 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c40)))
          (local.set $c41 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c41)))
          ;; step p + 1
          (local.set $b0 (v128.load offset=32 (local.get $bPanel)))
          (local.set $b1 (v128.load offset=48 (local.get $bPanel)))
          (local.set $a (v128.load32_splat offset=20 (local.get $aPanel)))
          (local.set $c00 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c00)))
          (local.set $c01 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c01)))
          (local.set $a (v128.load32_splat offset=24 (local.get $aPanel)))
          (local.set $c10 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c10)))
          (local.set $c11 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c11)))
          (local.set $a (v128.load32_splat offset=28 (local.get $aPanel)))
          (local.set $c20 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c20)))
          (local.set $c21 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c21)))
          (local.set $a (v128.load32_splat offset=32 (local.get $aPanel)))
          (local.set $c30 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c30)))
          (local.set $c31 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c31)))
          (local.set $a (v128.load32_splat offset=36 (local.get $aPanel)))
          (local.set $c40 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c40)))
          (local.set $c41 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c41)))
          (local.set $aPanel (i32.add (local.get $aPanel) (i32.const 40)))
          (local.set $bPanel (i32.add (local.get $bPanel) (i32.const 64)))
          (br_if $pairs (i32.ne (local.get $bPanel) (local.get $pairsEnd))))))
    ;; the last step when $depth is odd
    (if (i32.and (local.get $depth) (i32.const 1))
      (then
        (local.set $b0 (v128.load offset=0 (local.get $bPanel)))
        (local.set $b1 (v128.load offset=16 (local.get $bPanel)))
        (local.set $a (v128.load32_splat offset=0 (local.get $aPanel)))
        (local.set $c00 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c00)))
        (local.set $c01 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c01)))
        (local.set $a (v128.load32_splat offset=4 (local.get $aPanel)))
        (local.set $c10 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c10)))
        (local.set $c11 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c11)))
        (local.set $a (v128.load32_splat offset=8 (local.get $aPanel)))
        (local.set $c20 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c20)))
        (local.set $c21 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c21)))
        (local.set $a (v128.load32_splat offset=12 (local.get $aPanel)))
        (local.set $c30 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c30)))
        (local.set $c31 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c31)))
        (local.set $a (v128.load32_splat offset=16 (local.get $aPanel)))
        (local.set $c40 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c40)))
        (local.set $c41 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c41)))))
    (if (local.get $accumulate)
      (then
        (v128.store offset=0 (local.get $c)
          (f32x4.add (v128.load offset=0 (local.get $c)) (local.get $c00)))
        (v128.store offset=16 (local.get $c)
          (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c)
          (f32x4.add (v128.load offset=0 (local.get $c)) (local.get $c10)))
        (v128.store offset=16 (local.get $c)
          (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c)
          (f32x4.add (v128.load offset=0 (local.get $c)) (local.get $c20)))
        (v128.store offset=16 (local.get $c)
          (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c)
          (f32x4.add (v128.load offset=0 (local.get $c)) (local.get $c30)))
        (v128.store offset=16 (local.get $c)
          (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c31)))
        (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
        (v128.store offset=0 (local.get $c)
          (f32x4.add (v128.load offset=0 (local.get $c)) (local.get $c40)))
        (v128.store offset=16 (local.get $c)
          (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c41))))
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

  ;; Runs the micro-kernel of the element type: $microKernel64 when $elementShift is 3 (8-byte
  ;; elements), $microKernel32 when it is 2.
  (func $microKernel
    (param $elementShift i32) (param $depth i32) (param $aPanel i32) (param $bPanel i32)
    (param $c i32) (param $rowBytes i32) (param $accumulate i32)
    (if (i32.eq (local.get $elementShift) (i32.const 3))
      (then
        (call $microKernel64 (local.get $depth) (local.get $aPanel) (local.get $bPanel)
          (local.get $c) (local.get $rowBytes) (local.get $accumulate)))
      (else
        (call $microKernel32 (local.get $depth) (local.get $aPanel) (local.get $bPanel)
          (local.get $c) (local.get $rowBytes) (local.get $accumulate)))))

  ;; Writes ($accumulate = 0) or adds ($accumulate = 1) the top-left $rows × $columns of the
  ;; scratch $tile, whose rows are 32 bytes apart, into C at $c, whose rows are $rowBytes apart.
  ;; Elements are doubles when $elementShift is 3, floats when it is 2.
  (func $storeEdgeTile
    (param $tile i32) (param $c i32) (param $rowBytes i32)
    (param $rows i32) (param $columns i32) (param $accumulate i32) (param $elementShift i32)
    (local $i i32) (local $j i32) (local $from i32) (local $to i32)
    (loop $rowLoop
      (local.set $j (i32.const 0))
      (loop $columnLoop
        (local.set $from
          (i32.add (i32.add (local.get $tile) (i32.shl (local.get $i) (i32.const 5)))
            (i32.shl (local.get $j) (local.get $elementShift))))
        (local.set $to (i32.add (local.get $c) (i32.shl (local.get $j) (local.get $elementShift))))
        (if (i32.eq (local.get $elementShift) (i32.const 3))
          (then
            (f64.store (local.get $to)
              (if (result f64) (local.get $accumulate)
                (then (f64.add (f64.load (local.get $from)) (f64.load (local.get $to))))
                (else (f64.load (local.get $from))))))
          (else
            (f32.store (local.get $to)
              (if (result f32) (local.get $accumulate)
                (then (f32.add (f32.load (local.get $from)) (f32.load (local.get $to))))
                (else (f32.load (local.get $from)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $columnLoop (i32.lt_u (local.get $j) (local.get $columns))))
      (local.set $c (i32.add (local.get $c) (local.get $rowBytes)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rowLoop (i32.lt_u (local.get $i) (local.get $rows)))))

  ;; Packs an operand block that is contiguous along the panel width: element (o, p), for
  ;; o < $count across and p < $depth along the panels, is at $source + o e + p $depthStride,
  ;; where e = 2^$elementShift is the element's size in bytes (8 or 4). Writes panels of $width
  ;; values per step ($width e is 20, 32 or 40 bytes), $depth steps each, the last one padded
  ;; with zeros. Goes through the depth in bands of 8 steps, panel by panel within a band, so
  ;; that neither reading nor writing walks a power-of-two stride through one cache set.
  (func $packContiguous
    (param $source i32) (param $depthStride i32) (param $count i32) (param $depth i32)
    (param $width i32) (param $elementShift i32) (param $target i32)
    (local $widthBytes i32) (local $middlePair i32) (local $lastPair i32) (local $panelBytes i32)
    (local $remaining i32) (local $fullEnd i32)
    (local $p i32) (local $bandSteps i32) (local $step i32)
    (local $laneBytes i32) (local $remainingBytes i32)
    (local $from i32) (local $to i32) (local $panelFrom i32) (local $panelTo i32)
    (local.set $widthBytes (i32.shl (local.get $width) (local.get $elementShift)))
    ;; A row of a panel is copied as the 16-byte vectors at bytes 0, $middlePair and $lastPair,
    ;; which overlap or repeat unless the row is 48 bytes long.
    (local.set $lastPair (i32.sub (local.get $widthBytes) (i32.const 16)))
    (local.set $middlePair (call $min (local.get $lastPair) (i32.const 16)))
    (local.set $panelBytes (i32.mul (local.get $depth) (local.get $widthBytes)))
    (local.set $remaining (i32.rem_u (local.get $count) (local.get $width)))
    (local.set $remainingBytes (i32.shl (local.get $remaining) (local.get $elementShift)))
    (loop $bands
      (local.set $bandSteps (call $min (i32.sub (local.get $depth) (local.get $p)) (i32.const 8)))
      (local.set $panelFrom (local.get $source))
      (local.set $panelTo (local.get $target))
      (local.set $fullEnd
        (i32.add (local.get $source)
          (i32.shl (i32.sub (local.get $count) (local.get $remaining)) (local.get $elementShift))))
      (if (i32.ne (local.get $panelFrom) (local.get $fullEnd))
        (then
          (loop $panels
            (local.set $from (local.get $panelFrom))
            (local.set $to (local.get $panelTo))
            (local.set $step (local.get $bandSteps))
            (loop $steps
              (v128.store (local.get $to) (v128.load (local.get $from)))
              (v128.store (i32.add (local.get $to) (local.get $middlePair))
                (v128.load (i32.add (local.get $from) (local.get $middlePair))))
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
            (local.set $laneBytes (i32.const 0))
            (loop $lanes
              ;; the bits of each value, copied as an integer of the element's size
              (if (i32.eq (local.get $elementShift) (i32.const 3))
                (then
                  (i64.store (i32.add (local.get $panelTo) (local.get $laneBytes))
                    (if (result i64)
                      (i32.lt_u (local.get $laneBytes) (local.get $remainingBytes))
                      (then (i64.load (i32.add (local.get $panelFrom) (local.get $laneBytes))))
                      (else (i64.const 0)))))
                (else
                  (i32.store (i32.add (local.get $panelTo) (local.get $laneBytes))
                    (if (result i32)
                      (i32.lt_u (local.get $laneBytes) (local.get $remainingBytes))
                      (then (i32.load (i32.add (local.get $panelFrom) (local.get $laneBytes))))
                      (else (i32.const 0))))))
              (local.set $laneBytes
                (i32.add (local.get $laneBytes) (i32.shl (i32.const 1) (local.get $elementShift))))
              (br_if $lanes (i32.lt_u (local.get $laneBytes) (local.get $widthBytes))))
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

  ;; Packs a float64 operand block that is contiguous along the depth: element (o, p), for
  ;; o < $count across and p < $depth along the panels, is at $source + o $outerStride + 8 p.
  ;; Writes panels of $width (4 or 5) values per step, $depth steps each, the last one padded
  ;; with zeros. Reads $width rows side by side, two steps at a time, and interleaves them with
  ;; shuffles.
  (func $packInterleaved64
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

  ;; Packs a float32 operand block that is contiguous along the depth: element (o, p), for
  ;; o < $count across and p < $depth along the panels, is at $source + o $outerStride + 4 p.
  ;; Writes panels of $width (5 or 8) values per step, $depth steps each, the last one padded
  ;; with zeros. Takes the rows four at a time ($transposeFour); the fifth row of a 5-wide panel
  ;; is copied value by value.
  (func $packInterleaved32
    (param $source i32) (param $outerStride i32) (param $count i32) (param $depth i32)
    (param $width i32) (param $target i32)
    (local $widthBytes i32) (local $panelBytes i32) (local $remaining i32) (local $fullEnd i32)
    (local $step i32) (local $lane i32) (local $from i32) (local $to i32)
    (local.set $widthBytes (i32.shl (local.get $width) (i32.const 2)))
    (local.set $panelBytes (i32.mul (local.get $depth) (local.get $widthBytes)))
    (local.set $remaining (i32.rem_u (local.get $count) (local.get $width)))
    (local.set $fullEnd
      (i32.add (local.get $source)
        (i32.mul (i32.sub (local.get $count) (local.get $remaining)) (local.get $outerStride))))
    (if (i32.ne (local.get $source) (local.get $fullEnd))
      (then
        (loop $panels
          (call $transposeFour (local.get $source) (local.get $outerStride) (local.get $depth)
            (local.get $widthBytes) (local.get $target))
          (local.set $from
            (i32.add (local.get $source) (i32.shl (local.get $outerStride) (i32.const 2))))
          (local.set $to (i32.add (local.get $target) (i32.const 16)))
          (if (i32.eq (local.get $width) (i32.const 8))
            (then
              (call $transposeFour (local.get $from) (local.get $outerStride) (local.get $depth)
                (local.get $widthBytes) (local.get $to)))
            (else
              (local.set $step (local.get $depth))
              (loop $fifthRow
                (f32.store (local.get $to) (f32.load (local.get $from)))
                (local.set $from (i32.add (local.get $from) (i32.const 4)))
                (local.set $to (i32.add (local.get $to) (local.get $widthBytes)))
                (local.set $step (i32.sub (local.get $step) (i32.const 1)))
                (br_if $fifthRow (local.get $step)))))
          (local.set $source
            (i32.add (local.get $source) (i32.mul (local.get $outerStride) (local.get $width))))
          (local.set $target (i32.add (local.get $target) (local.get $panelBytes)))
          (br_if $panels (i32.ne (local.get $source) (local.get $fullEnd))))))
    (if (local.get $remaining)
      (then
        (local.set $step (i32.const 0))
        (loop $steps
          (local.set $lane (i32.const 0))
          (loop $lanes
            (f32.store (i32.add (local.get $target) (i32.shl (local.get $lane) (i32.const 2)))
              (if (result f32) (i32.lt_u (local.get $lane) (local.get $remaining))
                (then
                  (f32.load
                    (i32.add (local.get $source)
                      (i32.add (i32.mul (local.get $lane) (local.get $outerStride))
                        (i32.shl (local.get $step) (i32.const 2))))))
                (else (f32.const 0))))
            (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
            (br_if $lanes (i32.lt_u (local.get $lane) (local.get $width))))
          (local.set $target (i32.add (local.get $target) (local.get $widthBytes)))
          (local.set $step (i32.add (local.get $step) (i32.const 1)))
          (br_if $steps (i32.lt_u (local.get $step) (local.get $depth)))))))

  ;; Writes four float32 rows, at $source + r $outerStride for r < 4 and $depth values long,
  ;; into a packed panel as the 4 values of each step side by side, at $target and then
  ;; $targetStride bytes apart. Transposes 4 × 4 blocks in registers: two rounds of shuffles
  ;; interleave first pairs of values, then pairs of pairs.
  (func $transposeFour
    (param $source i32) (param $outerStride i32) (param $depth i32) (param $targetStride i32)
    (param $target i32)
    (local $row1 i32) (local $row2 i32) (local $row3 i32) (local $quads i32) (local $step i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    ;; $lowIJ holds values 0 and 1 of rows I and J interleaved, $highIJ values 2 and 3
    (local $low01 v128) (local $high01 v128) (local $low23 v128) (local $high23 v128)
    (local.set $row1 (i32.add (local.get $source) (local.get $outerStride)))
    (local.set $row2 (i32.add (local.get $row1) (local.get $outerStride)))
    (local.set $row3 (i32.add (local.get $row2) (local.get $outerStride)))
    (local.set $quads (i32.shr_u (local.get $depth) (i32.const 2)))
    (if (local.get $quads)
      (then
        (loop $stepQuads
          (local.set $r0 (v128.load (local.get $source)))
          (local.set $r1 (v128.load (local.get $row1)))
          (local.set $r2 (v128.load (local.get $row2)))
          (local.set $r3 (v128.load (local.get $row3)))
          ;; lanes 0 4 1 5 and 2 6 3 7 of the pair
          (local.set $low01
            (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
          (local.set $high01
            (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
              (local.get $r0) (local.get $r1)))
          (local.set $low23
            (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
          (local.set $high23
            (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
              (local.get $r2) (local.get $r3)))
          ;; lanes 0 1 4 5 of the low pairs are step p, lanes 2 3 6 7 step p + 1; the high pairs'
          ;; are steps p + 2 and p + 3
          (v128.store (local.get $target)
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (local.get $low01) (local.get $low23)))
          (local.set $target (i32.add (local.get $target) (local.get $targetStride)))
          (v128.store (local.get $target)
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
              (local.get $low01) (local.get $low23)))
          (local.set $target (i32.add (local.get $target) (local.get $targetStride)))
          (v128.store (local.get $target)
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (local.get $high01) (local.get $high23)))
          (local.set $target (i32.add (local.get $target) (local.get $targetStride)))
          (v128.store (local.get $target)
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
              (local.get $high01) (local.get $high23)))
          (local.set $target (i32.add (local.get $target) (local.get $targetStride)))
          (local.set $source (i32.add (local.get $source) (i32.const 16)))
          (local.set $row1 (i32.add (local.get $row1) (i32.const 16)))
          (local.set $row2 (i32.add (local.get $row2) (i32.const 16)))
          (local.set $row3 (i32.add (local.get $row3) (i32.const 16)))
          (local.set $quads (i32.sub (local.get $quads) (i32.const 1)))
          (br_if $stepQuads (local.get $quads)))))
    ;; the last $depth mod 4 steps
    (local.set $step (i32.and (local.get $depth) (i32.const 3)))
    (if (local.get $step)
      (then
        (loop $steps
          (f32.store offset=0 (local.get $target) (f32.load (local.get $source)))
          (f32.store offset=4 (local.get $target) (f32.load (local.get $row1)))
          (f32.store offset=8 (local.get $target) (f32.load (local.get $row2)))
          (f32.store offset=12 (local.get $target) (f32.load (local.get $row3)))
          (local.set $target (i32.add (local.get $target) (local.get $targetStride)))
          (local.set $source (i32.add (local.get $source) (i32.const 4)))
          (local.set $row1 (i32.add (local.get $row1) (i32.const 4)))
          (local.set $row2 (i32.add (local.get $row2) (i32.const 4)))
          (local.set $row3 (i32.add (local.get $row3) (i32.const 4)))
          (local.set $step (i32.sub (local.get $step) (i32.const 1)))
          (br_if $steps (local.get $step))))))

  ;; C = op(A) · op(B), C m × n, for either element type: 2^$elementShift bytes an element (8 or
  ;; 4), tiles 5 × $tileWidth (4 or 8), depth blocks of $depthBlock steps (256 or 512). A holds
  ;; op(A) (m × k), or its transpose (k × m) when $transposeA; B holds op(B) (k × n), or its
  ;; transpose (n × k) when $transposeB; each matrix is row-major, its rows $lda, $ldb or $ldc
  ;; elements apart. $workspace points at `workspaceBytes` bytes that overlap none of them.
  (func $gemm
    (param $elementShift i32) (param $tileWidth i32) (param $depthBlock i32)
    (param $transposeA i32) (param $transposeB i32)
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $lda i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)
    (param $workspace i32)
    (local $aPacked i32) (local $bPacked i32) (local $tile i32)
    (local $aRowBytes i32) (local $bRowBytes i32) (local $cRowBytes i32)
    (local $columnStart i32) (local $depthStart i32) (local $rowStart i32)
    (local $columns i32) (local $depth i32) (local $rows i32)
    (local $panelColumn i32) (local $panelRow i32) (local $laneBytes i32) (local $source i32)
    (local $aPanel i32) (local $bPanel i32) (local $cTile i32)
    (local $tileRows i32) (local $tileColumns i32) (local $accumulate i32)
    (local.set $aPacked (local.get $workspace))
    ;; 120 rows × 256 doubles or 512 floats
    (local.set $bPacked (i32.add (local.get $aPacked) (i32.const 245760)))
    ;; 256 doubles or 512 floats × 512 columns
    (local.set $tile (i32.add (local.get $bPacked) (i32.const 1048576)))
    (local.set $aRowBytes (i32.shl (local.get $lda) (local.get $elementShift)))
    (local.set $bRowBytes (i32.shl (local.get $ldb) (local.get $elementShift)))
    (local.set $cRowBytes (i32.shl (local.get $ldc) (local.get $elementShift)))
    (loop $columnBlocks
      (local.set $columns
        (call $min (i32.sub (local.get $n) (local.get $columnStart)) (i32.const 512)))
      (local.set $depthStart (i32.const 0))
      (loop $depthBlocks
        (local.set $depth
          (call $min (i32.sub (local.get $k) (local.get $depthStart)) (local.get $depthBlock)))
        ;; the first depth block writes C, the later ones add to it
        (local.set $accumulate (i32.ne (local.get $depthStart) (i32.const 0)))
        ;; a panel of either operand is $laneBytes bytes per lane
        (local.set $laneBytes (i32.shl (local.get $depth) (local.get $elementShift)))
        (if (local.get $transposeB)
          (then
            (local.set $source
              (i32.add (local.get $b)
                (i32.shl
                  (i32.add
                    (i32.mul (local.get $columnStart) (local.get $ldb)) (local.get $depthStart))
                  (local.get $elementShift))))
            (if (i32.eq (local.get $elementShift) (i32.const 3))
              (then
                (call $packInterleaved64 (local.get $source) (local.get $bRowBytes)
                  (local.get $columns) (local.get $depth) (i32.const 4) (local.get $bPacked)))
              (else
                (call $packInterleaved32 (local.get $source) (local.get $bRowBytes)
                  (local.get $columns) (local.get $depth) (i32.const 8) (local.get $bPacked)))))
          (else
            (call $packContiguous
              (i32.add (local.get $b)
                (i32.shl
                  (i32.add
                    (i32.mul (local.get $depthStart) (local.get $ldb)) (local.get $columnStart))
                  (local.get $elementShift)))
              (local.get $bRowBytes) (local.get $columns) (local.get $depth)
              (local.get $tileWidth) (local.get $elementShift) (local.get $bPacked))))
        (local.set $rowStart (i32.const 0))
        (loop $rowBlocks
          (local.set $rows
            (call $min (i32.sub (local.get $m) (local.get $rowStart)) (i32.const 120)))
          (if (local.get $transposeA)
            (then
              (call $packContiguous
                (i32.add (local.get $a)
                  (i32.shl
                    (i32.add
                      (i32.mul (local.get $depthStart) (local.get $lda)) (local.get $rowStart))
                    (local.get $elementShift)))
                (local.get $aRowBytes) (local.get $rows) (local.get $depth)
                (i32.const 5) (local.get $elementShift) (local.get $aPacked)))
            (else
              (local.set $source
                (i32.add (local.get $a)
                  (i32.shl
                    (i32.add
                      (i32.mul (local.get $rowStart) (local.get $lda)) (local.get $depthStart))
                    (local.get $elementShift))))
              (if (i32.eq (local.get $elementShift) (i32.const 3))
                (then
                  (call $packInterleaved64 (local.get $source) (local.get $aRowBytes)
                    (local.get $rows) (local.get $depth) (i32.const 5) (local.get $aPacked)))
                (else
                  (call $packInterleaved32 (local.get $source) (local.get $aRowBytes)
                    (local.get $rows) (local.get $depth) (i32.const 5) (local.get $aPacked))))))
          (local.set $panelColumn (i32.const 0))
          (loop $columnPanels
            (local.set $bPanel
              (i32.add (local.get $bPacked)
                (i32.mul (local.get $panelColumn) (local.get $laneBytes))))
            (local.set $tileColumns (i32.sub (local.get $columns) (local.get $panelColumn)))
            (local.set $panelRow (i32.const 0))
            (loop $rowPanels
              (local.set $aPanel
                (i32.add (local.get $aPacked)
                  (i32.mul (local.get $panelRow) (local.get $laneBytes))))
              (local.set $cTile
                (i32.add (local.get $c)
                  (i32.shl
                    (i32.add
                      (i32.mul
                        (i32.add (local.get $rowStart) (local.get $panelRow)) (local.get $ldc))
                      (i32.add (local.get $columnStart) (local.get $panelColumn)))
                    (local.get $elementShift))))
              (local.set $tileRows (i32.sub (local.get $rows) (local.get $panelRow)))
              (if (i32.and
                    (i32.ge_u (local.get $tileRows) (i32.const 5))
                    (i32.ge_u (local.get $tileColumns) (local.get $tileWidth)))
                (then
                  (call $microKernel (local.get $elementShift)
                    (local.get $depth) (local.get $aPanel) (local.get $bPanel)
                    (local.get $cTile) (local.get $cRowBytes) (local.get $accumulate)))
                (else
                  (call $microKernel (local.get $elementShift)
                    (local.get $depth) (local.get $aPanel) (local.get $bPanel)
                    (local.get $tile) (i32.const 32) (i32.const 0))
                  (call $storeEdgeTile (local.get $tile) (local.get $cTile) (local.get $cRowBytes)
                    (call $min (local.get $tileRows) (i32.const 5))
                    (call $min (local.get $tileColumns) (local.get $tileWidth))
                    (local.get $accumulate) (local.get $elementShift))))
              (local.set $panelRow (i32.add (local.get $panelRow) (i32.const 5)))
              (br_if $rowPanels (i32.lt_u (local.get $panelRow) (local.get $rows))))
            (local.set $panelColumn (i32.add (local.get $panelColumn) (local.get $tileWidth)))
            (br_if $columnPanels (i32.lt_u (local.get $panelColumn) (local.get $columns))))
          (local.set $rowStart (i32.add (local.get $rowStart) (i32.const 120)))
          (br_if $rowBlocks (i32.lt_u (local.get $rowStart) (local.get $m))))
        (local.set $depthStart (i32.add (local.get $depthStart) (local.get $depthBlock)))
        (br_if $depthBlocks (i32.lt_u (local.get $depthStart) (local.get $k))))
      (local.set $columnStart (i32.add (local.get $columnStart) (i32.const 512)))
      (br_if $columnBlocks (i32.lt_u (local.get $columnStart) (local.get $n)))))

  ;; $gemm on float64: 5 × 4 tiles of f64x2 lanes, depth blocks of 256.
  (func (export "gemm64")
    (param $transposeA i32) (param $transposeB i32)
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $lda i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)
    (param $workspace i32)
    (call $gemm (i32.const 3) (i32.const 4) (i32.const 256)
      (local.get $transposeA) (local.get $transposeB)
      (local.get $m) (local.get $n) (local.get $k)
      (local.get $a) (local.get $lda) (local.get $b) (local.get $ldb)
      (local.get $c) (local.get $ldc) (local.get $workspace)))

  ;; $gemm on float32: 5 × 8 tiles of f32x4 lanes, depth blocks of 512.
  (func (export "gemm32")
    (param $transposeA i32) (param $transposeB i32)
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $lda i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)
    (param $workspace i32)
    (call $gemm (i32.const 2) (i32.const 8) (i32.const 512)
      (local.get $transposeA) (local.get $transposeB)
      (local.get $m) (local.get $n) (local.get $k)
      (local.get $a) (local.get $lda) (local.get $b) (local.get $ldb)
      (local.get $c) (local.get $ldc) (local.get $workspace)))

  ;; y[i] ← y[i] + alpha · x[i] for the n doubles at byte offsets $x and $y (BLAS's axpy): the
  ;; product rounded, then the sum, as the TypeScript loop `y[i] + alpha * x[i]` does, so that
  ;; the results are its bits. Two lanes at a time, then the last double when n is odd.
  (func (export "axpy64") (param $n i32) (param $alpha f64) (param $x i32) (param $y i32)
    (local $alphas v128) (local $pairsEnd i32)
    (local.set $alphas (f64x2.splat (local.get $alpha)))
    (local.set $pairsEnd
      (i32.add (local.get $y) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_u (local.get $y) (local.get $pairsEnd)))
        (v128.store (local.get $y)
          (f64x2.add (v128.load (local.get $y))
            (f64x2.mul (local.get $alphas) (v128.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (f64.store (local.get $y)
          (f64.add (f64.load (local.get $y))
            (f64.mul (local.get $alpha) (f64.load (local.get $x))))))))

  ;; axpy64 on the n floats at $x and $y: each sum is computed in float64 (the float32 values
  ;; and alpha as they are) and rounded once to float32, as the TypeScript loop over
  ;; Float32Arrays does. Four lanes at a time, as two float64 pairs, then one float at a time.
  (func (export "axpy32") (param $n i32) (param $alpha f64) (param $x i32) (param $y i32)
    (local $alphas v128) (local $quadsEnd i32) (local $end i32) (local $xs v128) (local $ys v128)
    (local.set $alphas (f64x2.splat (local.get $alpha)))
    (local.set $quadsEnd
      (i32.add (local.get $y) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.ge_u (local.get $y) (local.get $quadsEnd)))
        (local.set $xs (v128.load (local.get $x)))
        (local.set $ys (v128.load (local.get $y)))
        (v128.store (local.get $y)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero
              (f64x2.add (f64x2.promote_low_f32x4 (local.get $ys))
                (f64x2.mul (local.get $alphas) (f64x2.promote_low_f32x4 (local.get $xs)))))
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                    (local.get $ys) (local.get $ys)))
                (f64x2.mul (local.get $alphas)
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                      (local.get $xs) (local.get $xs))))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $quads)))
    (block $done
      (loop $singles
        (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
        (f32.store (local.get $y)
          (f32.demote_f64
            (f64.add (f64.promote_f32 (f32.load (local.get $y)))
              (f64.mul (local.get $alpha) (f64.promote_f32 (f32.load (local.get $x)))))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (br $singles)))))
