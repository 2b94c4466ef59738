; Every instruction form and directive of docs/assembly.md, for the round-trip test
; (sw/asm/CMakeLists.txt): assemble, disassemble, assemble again, compare the images.
; It is a syntax sampler, not a program to run.

.equ N, 8                       ; ArrayDim
.equ LR_RAW, 64
.buf X, N + N                   ; rows 0..15: inputs, N spare rows for transposed reads
.buf W, N                       ; rows 16..23
.buf B, 1                       ; row 24
.buf Y, 4
.org 0x40
.buf H, 0b100                   ; rows 64..67
.buf G, N

start:
        nop
        SYNC                    ; mnemonics are case-insensitive
        seed 0xDEADBEEF
        seed 0
        seed 0xFFFFFFFF
        loop 65535
        loop (end - start)      ; a label used before its definition
          loop 1
            loop 0              ; assembles; the TPU's decode rejects it (ErrLoop)
            endl
          endl
        endl
        endl

        ; vpu: every key, defaults, and the extremes
        vpu
        vpu mask=none
        vpu mask=bias+act+loss+deriv, act=leaky, leak=15, batch=15, src=s, bias=65535, side=65535
        vpu MASK=Deriv+Bias, ACT=ReLU, src=Z
        vpu side=Y, bias=B, mask=loss, batch=2
        vpu act=identity, leak=0, batch=0, src=z, bias=0, side=0, mask=act
        vpu act=3                ; the reserved code: decode rejects it (ErrField)
        vpu mask=bias+loss, bias=a2+B, side=Y + a1   ; rows through address registers
        vpu bias=a3, side=A1+65535, mask=act         ; a register alone: field 0

        ; loadw: plain and transposed, field maxima
        loadw W, rows=N
        loadw W, rows=N, t
        loadw 65535, rows=255, T
        loadw 0, rows=0
        loadw a1+W, rows=N
        loadw W + 1 + a2, rows=1, t
        loadw a3 + 65535, rows=255
        loadw a0 + 5, rows=1     ; a0 is "no register": the same word as loadw 5

        ; matmul: positional act/out, then keys in any order
        matmul X, H, rows=4, k=N, n=N
        matmul X, H, n=2, k=3, rows=N, t
        matmul 65535, 65535, rows=1023, k=63, n=63, t
        matmul a1+X, H, rows=4, k=N, n=N
        matmul X, a2 + H, rows=4, k=N, n=N, acc
        matmul A3, a1 + 65535, rows=1, k=1, n=1, t
        matmul -(-a1) + (X + 1), (a2), rows=2, k=2, n=2
        matmul 0, 0, rows=0, k=0, n=0
        matmul X, H, rows=2, k=2, n=1, acc     ; H += X W (K-tiled accumulation)
        matmul X, H, acc, t, rows=1, k=1, n=1  ; flags in any order

        ; sgd: fixed-point, whole and raw learning rates
        sgd W, G, count=N + 2, lr=0.25
        sgd W, G, count=2047, lr=-1.5, stochastic
        sgd W, G, count=1, lr=64q
        sgd W, G, count=1, lr=-64q
        sgd W, G, count=1, lr=0xFFC0q   ; the 16-bit pattern of -64
        sgd W, G, count=1, lr=LR_RAW    ; a whole number: 64.0
        sgd W, G, count=1, lr=127.99609375
        sgd W, G, count=1, lr=-128.0
        sgd W, G, count=1, lr=0.001953125  ; half a step: rounds away from zero
        sgd W, G, count=1, lr=0

        ; seta/adda: every register, the extremes
        seta a1, 0
        seta a2, 65535
        SETA A3, H + 4
        seta a0, 1               ; assembles; the TPU's decode rejects it (ErrField)
        adda a1, 1
        adda a2, -32768
        adda a3, 32767
        adda a1, -(N + N)
        adda a0, 0               ; ErrField too

        ; raw words: an illegal opcode, and a reserved bit set
        .word 0xF000000000000000
        .word 0x1000000000000001
        .word 0x0123456789ABCDEF
        .word 0xA000000000040000   ; seta with a reserved bit set
end:    halt
