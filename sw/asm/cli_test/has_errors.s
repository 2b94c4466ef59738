; Four errors for the command-line test (sw/asm/CMakeLists.txt): every one is reported.
.buf W1, 8
        loadw W1, rows=8
  matmlu 0, 16, rows=4, k=8, n=8
        matmul 0, 16, rows=4, k=8, n=70
        loadw W3, rows=8
        loadw a1+W1+a2, rows=8
        halt
