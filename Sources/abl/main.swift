import CKernels
import Glibc
import pipeline

// The libraries' Swift code is compiled for AVX2 and FMA (Package.swift), so on an older x86-64
// CPU it would stop with SIGILL at the first such instruction. This file is compiled for plain
// x86-64 and checks first, with the C kernels' cpuid (which assumes nothing).
let features = abl_cpu_features()
guard features & UInt32(ABL_CPU_AVX2) != 0, features & UInt32(ABL_CPU_FMA) != 0 else {
    let message = "error: abl needs an x86-64 CPU with AVX2 and FMA (Intel Haswell, AMD Zen or later); this CPU lacks one or both\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(2)
}
ABL.main()
