/* Fuzz target: the range-coded snapshot decoder (range_coder.c and
 * snapshot_range.c behind netcore_snapshot_client_read). The same harness as
 * fuzz_snapshot.c (a client holding a few baselines decodes one datagram; a
 * leading 'O' runs a server/client script over a lossy link that must
 * converge), with a range-coded schema.
 *
 * Seeds: NETCORE_SNAPSHOT_WRITE_SEEDS=<dir> fuzz_snapshot_range -runs=0 writes
 * range-coded snapshots of the scene into <dir>; the committed corpus in
 * tests/fuzz/corpus/fuzz_snapshot_range/ was made that way. */
#define FUZZ_SNAPSHOT_FORMAT NETCORE_SNAPSHOT_FORMAT_RANGE_CODED
#include "fuzz_snapshot.c"
