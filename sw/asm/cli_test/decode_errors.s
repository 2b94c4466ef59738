; Two decode-check errors for the command-line test (tpu-as --dim 8 --depth 256).
        seta a1, 4
        seta a0, 4
        loadw a2 + 250, rows=2, t
        halt
