import CRecurrentKernels

extension Compute {
    /// The fewest values a plain copy (a training batch's images, its time-major layout) splits
    /// among the threads: below it a fork-join costs more than the copy saves (a batch of 64
    /// row-MNIST images is 50,176 values, ~50 µs on one thread).
    static var copyValuesPerThread: Int { 32_768 }

    /// Splits `0 ..< count` into `parts` contiguous slices of near-equal size and runs
    /// `body` on each, in parallel on the kernel pool (the caller takes part), returning
    /// when every slice is done.
    ///
    /// Inside `body` the task-local options are the caller's `backend` and
    /// `threadsPerSlice` threads (worker threads do not inherit task-locals). Slices
    /// must touch disjoint memory; which thread runs a slice never matters.
    ///
    /// The unroller uses it to split the batch: the rows of a batch are independent
    /// through every step of every cell, so one fork-join per sequence replaces a
    /// barrier per time step.
    public static func forEachSlice(of count: Int, parts: Int, threadsPerSlice: Int = 1,
                                    _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(parts, count))
        let backend = Compute.backend
        withoutActuallyEscaping(body) { body in
            var run = { (part: Int) in
                let slice = (count * part / parts) ..< (count * (part + 1) / parts)
                Compute.$backend.withValue(backend) {
                    Compute.$threads.withValue(threadsPerSlice) { body(slice) }
                }
            }
            if parts == 1 { run(0); return }
            withUnsafeMutablePointer(to: &run) { pointer in
                rk_parallel_for(Int32(parts), { context, part, _ in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(part))
                }, pointer)
            }
        }
    }
}
