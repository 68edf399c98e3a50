/*
 * Preloaded into test_nbd's NBD server (LD_PRELOAD): locks each page of the
 * process as it is first touched, now and after (MCL_ONFAULT), so the
 * server never needs a page of its own back from the swap whose cold pages
 * it serves: that swap-in would wait for the server itself. nbdkit's own
 * --swap locks without MCL_ONFAULT and so pins all of its 192 MiB .bss,
 * most of the guest. A failure is reported and the server runs unlocked
 * (the test checks VmLck).
 */
#include <stdio.h>
#include <sys/mman.h>

__attribute__((constructor)) static void lock_on_fault(void)
{
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0)
		perror("lockonfault: mlockall");
}
