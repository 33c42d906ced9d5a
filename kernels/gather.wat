;; The transposing, normalizing batch gather of lib/dataset.ts's gatherBatch in WebAssembly SIMD.
;;
;; A batch is `size` samples of an image set, each `features` bytes stored contiguously
;; (sample-major; $sources lists each sample's byte address). The result is feature-major, row f
;; holding feature f of every sample:
;;
;;   output[f · size + j] = pixel(sample j, feature f) · scale[f] − offset[f]
;;
;; computed in float64, a multiplication then a subtraction, each rounded, exactly as the
;; TypeScript loop computes it: $normalize64's results are bit-identical to it. $normalize32 then
;; rounds each value to the nearest float32 (f32x4.demote_f64x2_zero), as storing that float64
;; into a Float32Array does, so its results are bit-identical too. (Computing in float32 from
;; float32-rounded scale and offset would be cheaper, but rounds differently.)
;;
;; scripts/build_wasm.ts assembles this file into lib/wasm_gather_bytes.ts. lib/wasm_gather.ts
;; copies the image set into the memory once, and for each batch writes the sample addresses,
;; scale and offset there, calls $transpose once, then $normalize64 or $normalize32 on blocks of
;; rows, copying each block out while it is still in cache.
;;
;; The two passes:
;;
;; 1. $transpose: the batch's bytes as a features × size byte matrix, in blocks of 16 features
;;    × 8 samples: eight 16-byte loads, three rounds of interleaving (unpack) shuffles of bytes,
;;    16-bit pairs and 32-bit quads, and sixteen 8-byte stores, one a row. Feature blocks are
;;    the outer loop: each pass over the samples reads one 16-byte piece of every sample, so
;;    that the cache misses on the (randomly ordered) samples overlap; with samples outer, it
;;    was 40% slower.
;; 2. $normalize64 / $normalize32, row by row, 16 bytes at a time: an i8x16.swizzle with a
;;    constant mask places two bytes, zero-extended, in the low i32 lanes, which
;;    f64x2.convert_low_i32x4_s converts; then · splat(scale[f]) − splat(offset[f]). (The
;;    swizzle was ~8% faster than widening with extend_low/high and shuffling the high pair down.)
;;
;; On one x86-64 core (AMD EPYC), for 3072 features × 100 samples drawn at random from a
;; 138 MB set: pass 1 about 30 µs (16 µs when the samples are in cache), pass 2 about 50 µs in
;; float64 and 70 µs in float32. Pass 2 is bound by the floating-point pipes: per pair of values
;; a conversion, a multiplication and a subtraction (and a demotion for float32), which the
;; bit-identical result needs.
;;
;; Edges are handled by overlapping blocks instead of scalar tail loops: the last block of a
;; row or column starts at size − 16 (or − 8) or features − 16 instead, recomputing a few values
;; bit for bit. Only a batch narrower than one block (size < 8, or features < 16 for pass 1) runs
;; scalar loops. Addresses are byte offsets into memory 0; sizes are at least 1.
(module
  (memory (export "memory") 1)

  (func $min (param $x i32) (param $y i32) (result i32)
    (select (local.get $x) (local.get $y) (i32.lt_u (local.get $x) (local.get $y))))

  ;; Pass 1 for a batch narrower than a block: one byte at a time.
  (func $transposeScalar
    (param $sources i32) (param $size i32) (param $features i32) (param $transposed i32)
    (local $j i32) (local $f i32) (local $source i32) (local $destination i32)
    (loop $samples
      (local.set $source
        (i32.load (i32.add (local.get $sources) (i32.shl (local.get $j) (i32.const 2)))))
      (local.set $destination (i32.add (local.get $transposed) (local.get $j)))
      (local.set $f (i32.const 0))
      (loop $bytes
        (i32.store8 (local.get $destination)
          (i32.load8_u (i32.add (local.get $source) (local.get $f))))
        (local.set $destination (i32.add (local.get $destination) (local.get $size)))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br_if $bytes (i32.lt_u (local.get $f) (local.get $features))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $samples (i32.lt_u (local.get $j) (local.get $size)))))

  ;; Pass 1: transposed[f · size + j] = byte f of the sample at address sources[j], for the
  ;; `size` int32 addresses at $sources, f < features.
  (func $transpose (export "transpose")
    (param $sources i32) (param $size i32) (param $features i32) (param $transposed i32)
    (local $j i32) (local $f i32) (local $firstSample i32) (local $firstFeature i32)
    (local $lastSampleBlock i32) (local $lastFeatureBlock i32) (local $pointer i32)
    ;; $bytesK: the block's 16 features of sample K; $pairsKL: 8 of them, each as 2 bytes
    ;; (samples K, L); $quadsK: features 4K to 4K + 3 of samples 0–3 (K < 4) or features
    ;; 4(K − 4) to 4(K − 4) + 3 of samples 4–7, each as 4 bytes; $featurePair: 2 features,
    ;; each as 8 bytes (samples 0–7)
    (local $bytes0 v128) (local $bytes1 v128) (local $bytes2 v128) (local $bytes3 v128)
    (local $bytes4 v128) (local $bytes5 v128) (local $bytes6 v128) (local $bytes7 v128)
    (local $pairs01 v128) (local $pairs23 v128) (local $pairs45 v128) (local $pairs67 v128)
    (local $quads0 v128) (local $quads1 v128) (local $quads2 v128) (local $quads3 v128)
    (local $quads4 v128) (local $quads5 v128) (local $quads6 v128) (local $quads7 v128)
    (local $featurePair v128)
    (if (i32.or (i32.lt_u (local.get $size) (i32.const 8))
          (i32.lt_u (local.get $features) (i32.const 16)))
      (then
        (call $transposeScalar
          (local.get $sources) (local.get $size) (local.get $features) (local.get $transposed))
        (return)))
    (local.set $lastSampleBlock (i32.sub (local.get $size) (i32.const 8)))
    (local.set $lastFeatureBlock (i32.sub (local.get $features) (i32.const 16)))
    (loop $featureBlocks
      (local.set $firstFeature (call $min (local.get $f) (local.get $lastFeatureBlock)))
      (local.set $j (i32.const 0))
      (loop $sampleBlocks
        (local.set $firstSample (call $min (local.get $j) (local.get $lastSampleBlock)))
        (local.set $pointer
          (i32.add (local.get $sources) (i32.shl (local.get $firstSample) (i32.const 2))))
        (local.set $bytes0 (v128.load
          (i32.add (i32.load offset=0 (local.get $pointer)) (local.get $firstFeature))))
        (local.set $bytes1 (v128.load
          (i32.add (i32.load offset=4 (local.get $pointer)) (local.get $firstFeature))))
        (local.set $bytes2 (v128.load
          (i32.add (i32.load offset=8 (local.get $pointer)) (local.get $firstFeature))))
        (local.set $bytes3 (v128.load
          (i32.add (i32.load offset=12 (local.get $pointer)) (local.get $firstFeature))))
        (local.set $bytes4 (v128.load
          (i32.add (i32.load offset=16 (local.get $pointer)) (local.get $firstFeature))))
        (local.set $bytes5 (v128.load
          (i32.add (i32.load offset=20 (local.get $pointer)) (local.get $firstFeature))))
        (local.set $bytes6 (v128.load
          (i32.add (i32.load offset=24 (local.get $pointer)) (local.get $firstFeature))))
        (local.set $bytes7 (v128.load
          (i32.add (i32.load offset=28 (local.get $pointer)) (local.get $firstFeature))))
        ;; samples 0–3, features 0–7: interleave bytes, then 16-bit pairs
        (local.set $pairs01 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
          (local.get $bytes0) (local.get $bytes1)))
        (local.set $pairs23 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
          (local.get $bytes2) (local.get $bytes3)))
        (local.set $quads0 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23
          (local.get $pairs01) (local.get $pairs23)))
        (local.set $quads1 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31
          (local.get $pairs01) (local.get $pairs23)))
        ;; samples 0–3, features 8–15: interleave bytes, then 16-bit pairs
        (local.set $pairs01 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31
          (local.get $bytes0) (local.get $bytes1)))
        (local.set $pairs23 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31
          (local.get $bytes2) (local.get $bytes3)))
        (local.set $quads2 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23
          (local.get $pairs01) (local.get $pairs23)))
        (local.set $quads3 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31
          (local.get $pairs01) (local.get $pairs23)))
        ;; samples 4–7, features 0–7: interleave bytes, then 16-bit pairs
        (local.set $pairs45 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
          (local.get $bytes4) (local.get $bytes5)))
        (local.set $pairs67 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
          (local.get $bytes6) (local.get $bytes7)))
        (local.set $quads4 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23
          (local.get $pairs45) (local.get $pairs67)))
        (local.set $quads5 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31
          (local.get $pairs45) (local.get $pairs67)))
        ;; samples 4–7, features 8–15: interleave bytes, then 16-bit pairs
        (local.set $pairs45 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31
          (local.get $bytes4) (local.get $bytes5)))
        (local.set $pairs67 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31
          (local.get $bytes6) (local.get $bytes7)))
        (local.set $quads6 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23
          (local.get $pairs45) (local.get $pairs67)))
        (local.set $quads7 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31
          (local.get $pairs45) (local.get $pairs67)))
        ;; interleave the quads of samples 0–3 and 4–7: each vector is two features' 8 bytes,
        ;; stored in their two rows
        (local.set $pointer
          (i32.add (local.get $transposed)
            (i32.add (i32.mul (local.get $firstFeature) (local.get $size))
              (local.get $firstSample))))
        (local.set $featurePair (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
          (local.get $quads0) (local.get $quads4)))
        (v128.store64_lane 0 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (v128.store64_lane 1 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (local.set $featurePair (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
          (local.get $quads0) (local.get $quads4)))
        (v128.store64_lane 0 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (v128.store64_lane 1 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (local.set $featurePair (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
          (local.get $quads1) (local.get $quads5)))
        (v128.store64_lane 0 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (v128.store64_lane 1 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (local.set $featurePair (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
          (local.get $quads1) (local.get $quads5)))
        (v128.store64_lane 0 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (v128.store64_lane 1 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (local.set $featurePair (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
          (local.get $quads2) (local.get $quads6)))
        (v128.store64_lane 0 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (v128.store64_lane 1 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (local.set $featurePair (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
          (local.get $quads2) (local.get $quads6)))
        (v128.store64_lane 0 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (v128.store64_lane 1 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (local.set $featurePair (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
          (local.get $quads3) (local.get $quads7)))
        (v128.store64_lane 0 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (v128.store64_lane 1 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (local.set $featurePair (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
          (local.get $quads3) (local.get $quads7)))
        (v128.store64_lane 0 (local.get $pointer) (local.get $featurePair))
        (local.set $pointer (i32.add (local.get $pointer) (local.get $size)))
        (v128.store64_lane 1 (local.get $pointer) (local.get $featurePair))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br_if $sampleBlocks (i32.lt_u (local.get $j) (local.get $size))))
      (local.set $f (i32.add (local.get $f) (i32.const 16)))
      (br_if $featureBlocks (i32.lt_u (local.get $f) (local.get $features)))))

  ;; Pass 2 in float64: output[f · size + j] = transposed[f · size + j] · scale[f] − offset[f]
  ;; for the `rows` rows f of `size` bytes at $transposed, with `rows` float64 values at $scale
  ;; and at $offset. Writes rows × size float64 values at $output.
  (func $normalize64 (export "normalize64")
    (param $transposed i32) (param $size i32) (param $rows i32)
    (param $scale i32) (param $offset i32) (param $output i32)
    (local $f i32) (local $j i32) (local $first i32) (local $row i32) (local $outputRow i32)
    (local $destination i32) (local $bytes v128) (local $scaleSplat v128) (local $offsetSplat v128)
    ;; $maskK moves bytes 2K and 2K + 1, zero-extended, to i32 lanes 0 and 1 (index 0x80: 0)
    (local $mask0 v128) (local $mask1 v128) (local $mask2 v128) (local $mask3 v128)
    (local $mask4 v128) (local $mask5 v128) (local $mask6 v128) (local $mask7 v128)
    (local.set $mask0 (v128.const i32x4 0x80808000 0x80808001 0x80808080 0x80808080))
    (local.set $mask1 (v128.const i32x4 0x80808002 0x80808003 0x80808080 0x80808080))
    (local.set $mask2 (v128.const i32x4 0x80808004 0x80808005 0x80808080 0x80808080))
    (local.set $mask3 (v128.const i32x4 0x80808006 0x80808007 0x80808080 0x80808080))
    (local.set $mask4 (v128.const i32x4 0x80808008 0x80808009 0x80808080 0x80808080))
    (local.set $mask5 (v128.const i32x4 0x8080800a 0x8080800b 0x80808080 0x80808080))
    (local.set $mask6 (v128.const i32x4 0x8080800c 0x8080800d 0x80808080 0x80808080))
    (local.set $mask7 (v128.const i32x4 0x8080800e 0x8080800f 0x80808080 0x80808080))
    (local.set $row (local.get $transposed))
    (local.set $outputRow (local.get $output))
    (loop $rows
      (local.set $scaleSplat (v128.load64_splat (local.get $scale)))
      (local.set $offsetSplat (v128.load64_splat (local.get $offset)))
      (local.set $j (i32.const 0))
      (local.set $first (i32.const 0))
      ;; 16 values at a time; once fewer than 16 remain, a last block of 16 ending at the row's
      ;; end if more than 8 remain ($j is then the row's end)
      (if (i32.ge_u (local.get $size) (i32.const 16))
        (then
          (loop $blocks16
            (local.set $bytes (v128.load (i32.add (local.get $row) (local.get $first))))
            (local.set $destination
              (i32.add (local.get $outputRow) (i32.shl (local.get $first) (i32.const 3))))
            (v128.store offset=0 (local.get $destination)
              (f64x2.sub
                (f64x2.mul
                  (f64x2.convert_low_i32x4_s
                    (i8x16.swizzle (local.get $bytes) (local.get $mask0)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=16 (local.get $destination)
              (f64x2.sub
                (f64x2.mul
                  (f64x2.convert_low_i32x4_s
                    (i8x16.swizzle (local.get $bytes) (local.get $mask1)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=32 (local.get $destination)
              (f64x2.sub
                (f64x2.mul
                  (f64x2.convert_low_i32x4_s
                    (i8x16.swizzle (local.get $bytes) (local.get $mask2)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=48 (local.get $destination)
              (f64x2.sub
                (f64x2.mul
                  (f64x2.convert_low_i32x4_s
                    (i8x16.swizzle (local.get $bytes) (local.get $mask3)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=64 (local.get $destination)
              (f64x2.sub
                (f64x2.mul
                  (f64x2.convert_low_i32x4_s
                    (i8x16.swizzle (local.get $bytes) (local.get $mask4)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=80 (local.get $destination)
              (f64x2.sub
                (f64x2.mul
                  (f64x2.convert_low_i32x4_s
                    (i8x16.swizzle (local.get $bytes) (local.get $mask5)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=96 (local.get $destination)
              (f64x2.sub
                (f64x2.mul
                  (f64x2.convert_low_i32x4_s
                    (i8x16.swizzle (local.get $bytes) (local.get $mask6)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=112 (local.get $destination)
              (f64x2.sub
                (f64x2.mul
                  (f64x2.convert_low_i32x4_s
                    (i8x16.swizzle (local.get $bytes) (local.get $mask7)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (local.set $j (i32.add (local.get $first) (i32.const 16)))
            (local.set $first
              (call $min (local.get $j) (i32.sub (local.get $size) (i32.const 16))))
            (br_if $blocks16 (i32.gt_u (i32.sub (local.get $size) (local.get $j)) (i32.const 8))))))
      ;; at most 8 remain (or the row is shorter than 16): blocks of 8, the last ending at the
      ;; row's end; scalar for a row shorter than 8
      (if (i32.lt_u (local.get $j) (local.get $size))
        (then
          (if (i32.ge_u (local.get $size) (i32.const 8))
            (then
              (loop $blocks8
                (local.set $first
                  (call $min (local.get $j) (i32.sub (local.get $size) (i32.const 8))))
                (local.set $bytes (v128.load64_zero (i32.add (local.get $row) (local.get $first))))
                (local.set $destination
                  (i32.add (local.get $outputRow) (i32.shl (local.get $first) (i32.const 3))))
                (v128.store offset=0 (local.get $destination)
                  (f64x2.sub
                    (f64x2.mul
                      (f64x2.convert_low_i32x4_s
                        (i8x16.swizzle (local.get $bytes) (local.get $mask0)))
                      (local.get $scaleSplat))
                    (local.get $offsetSplat)))
                (v128.store offset=16 (local.get $destination)
                  (f64x2.sub
                    (f64x2.mul
                      (f64x2.convert_low_i32x4_s
                        (i8x16.swizzle (local.get $bytes) (local.get $mask1)))
                      (local.get $scaleSplat))
                    (local.get $offsetSplat)))
                (v128.store offset=32 (local.get $destination)
                  (f64x2.sub
                    (f64x2.mul
                      (f64x2.convert_low_i32x4_s
                        (i8x16.swizzle (local.get $bytes) (local.get $mask2)))
                      (local.get $scaleSplat))
                    (local.get $offsetSplat)))
                (v128.store offset=48 (local.get $destination)
                  (f64x2.sub
                    (f64x2.mul
                      (f64x2.convert_low_i32x4_s
                        (i8x16.swizzle (local.get $bytes) (local.get $mask3)))
                      (local.get $scaleSplat))
                    (local.get $offsetSplat)))
                (local.set $j (i32.add (local.get $j) (i32.const 8)))
                (br_if $blocks8 (i32.lt_u (local.get $j) (local.get $size)))))
            (else
              (loop $values
                (f64.store
                  (i32.add (local.get $outputRow) (i32.shl (local.get $j) (i32.const 3)))
                  (f64.sub
                    (f64.mul
                      (f64.convert_i32_u
                        (i32.load8_u (i32.add (local.get $row) (local.get $j))))
                      (f64.load (local.get $scale)))
                    (f64.load (local.get $offset))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $values (i32.lt_u (local.get $j) (local.get $size))))))))
      (local.set $row (i32.add (local.get $row) (local.get $size)))
      (local.set $outputRow
        (i32.add (local.get $outputRow) (i32.shl (local.get $size) (i32.const 3))))
      (local.set $scale (i32.add (local.get $scale) (i32.const 8)))
      (local.set $offset (i32.add (local.get $offset) (i32.const 8)))
      (local.set $f (i32.add (local.get $f) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $f) (local.get $rows)))))

  ;; Pass 2 in float32, in float32 arithmetic: each value is pixel · scale − offset with scale and
  ;; offset rounded to float32 and the product and difference rounded as float32 operations
  ;; round (four lanes at a time, against two for float64).
  (func $normalize32 (export "normalize32")
    (param $transposed i32) (param $size i32) (param $rows i32)
    (param $scale i32) (param $offset i32) (param $output i32)
    (local $f i32) (local $j i32) (local $first i32) (local $row i32) (local $outputRow i32)
    (local $destination i32) (local $bytes v128) (local $scaleSplat v128) (local $offsetSplat v128)
    (local $scale32 f32) (local $offset32 f32)
    ;; $quadQ moves bytes 4Q to 4Q + 3, zero-extended, to the four i32 lanes (index 0x80: 0)
    (local $quad0 v128) (local $quad1 v128) (local $quad2 v128) (local $quad3 v128)
    (local.set $quad0 (v128.const i32x4 0x80808000 0x80808001 0x80808002 0x80808003))
    (local.set $quad1 (v128.const i32x4 0x80808004 0x80808005 0x80808006 0x80808007))
    (local.set $quad2 (v128.const i32x4 0x80808008 0x80808009 0x8080800a 0x8080800b))
    (local.set $quad3 (v128.const i32x4 0x8080800c 0x8080800d 0x8080800e 0x8080800f))
    (local.set $row (local.get $transposed))
    (local.set $outputRow (local.get $output))
    (loop $rows
      (local.set $scale32 (f32.demote_f64 (f64.load (local.get $scale))))
      (local.set $offset32 (f32.demote_f64 (f64.load (local.get $offset))))
      (local.set $scaleSplat (f32x4.splat (local.get $scale32)))
      (local.set $offsetSplat (f32x4.splat (local.get $offset32)))
      (local.set $j (i32.const 0))
      (local.set $first (i32.const 0))
      ;; 16 values at a time; once fewer than 16 remain, a last block of 16 ending at the row's
      ;; end if more than 8 remain ($j is then the row's end)
      (if (i32.ge_u (local.get $size) (i32.const 16))
        (then
          (loop $blocks16
            (local.set $bytes (v128.load (i32.add (local.get $row) (local.get $first))))
            (local.set $destination
              (i32.add (local.get $outputRow) (i32.shl (local.get $first) (i32.const 2))))
            (v128.store offset=0 (local.get $destination)
              (f32x4.sub
                (f32x4.mul
                  (f32x4.convert_i32x4_s (i8x16.swizzle (local.get $bytes) (local.get $quad0)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=16 (local.get $destination)
              (f32x4.sub
                (f32x4.mul
                  (f32x4.convert_i32x4_s (i8x16.swizzle (local.get $bytes) (local.get $quad1)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=32 (local.get $destination)
              (f32x4.sub
                (f32x4.mul
                  (f32x4.convert_i32x4_s (i8x16.swizzle (local.get $bytes) (local.get $quad2)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (v128.store offset=48 (local.get $destination)
              (f32x4.sub
                (f32x4.mul
                  (f32x4.convert_i32x4_s (i8x16.swizzle (local.get $bytes) (local.get $quad3)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
            (local.set $j (i32.add (local.get $first) (i32.const 16)))
            (local.set $first
              (call $min (local.get $j) (i32.sub (local.get $size) (i32.const 16))))
            (br_if $blocks16 (i32.gt_u (i32.sub (local.get $size) (local.get $j)) (i32.const 8))))))
      ;; at most 8 remain (or the row is shorter than 16): blocks of 8, the last ending at the
      ;; row's end; scalar for a row shorter than 8
      (if (i32.lt_u (local.get $j) (local.get $size))
        (then
          (if (i32.ge_u (local.get $size) (i32.const 8))
            (then
              (loop $blocks8
                (local.set $first
                  (call $min (local.get $j) (i32.sub (local.get $size) (i32.const 8))))
                (local.set $bytes (v128.load64_zero (i32.add (local.get $row) (local.get $first))))
                (local.set $destination
                  (i32.add (local.get $outputRow) (i32.shl (local.get $first) (i32.const 2))))
                (v128.store offset=0 (local.get $destination)
                  (f32x4.sub
                (f32x4.mul
                  (f32x4.convert_i32x4_s (i8x16.swizzle (local.get $bytes) (local.get $quad0)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
                (v128.store offset=16 (local.get $destination)
                  (f32x4.sub
                (f32x4.mul
                  (f32x4.convert_i32x4_s (i8x16.swizzle (local.get $bytes) (local.get $quad1)))
                  (local.get $scaleSplat))
                (local.get $offsetSplat)))
                (local.set $j (i32.add (local.get $j) (i32.const 8)))
                (br_if $blocks8 (i32.lt_u (local.get $j) (local.get $size)))))
            (else
              (loop $values
                (f32.store
                  (i32.add (local.get $outputRow) (i32.shl (local.get $j) (i32.const 2)))
                  (f32.sub
                    (f32.mul
                      (f32.convert_i32_u (i32.load8_u (i32.add (local.get $row) (local.get $j))))
                      (local.get $scale32))
                    (local.get $offset32)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $values (i32.lt_u (local.get $j) (local.get $size))))))))
      (local.set $row (i32.add (local.get $row) (local.get $size)))
      (local.set $outputRow
        (i32.add (local.get $outputRow) (i32.shl (local.get $size) (i32.const 2))))
      (local.set $scale (i32.add (local.get $scale) (i32.const 8)))
      (local.set $offset (i32.add (local.get $offset) (i32.const 8)))
      (local.set $f (i32.add (local.get $f) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $f) (local.get $rows)))))
)
