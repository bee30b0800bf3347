/* The TAP helper and the base modules (buf, log reasons) work. */
#include <string.h>

#include "buf.h"
#include "log.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT;
	struct bytes x = bytes_str("ab"), y = bytes_str("abc");

	buf_add(&b, "a\0b", 3);
	is_mem(b.data, b.len, "a\0b", 3, "buf_add keeps NUL bytes");
	buf_printf(&b, "%d", 42);
	is_mem(b.data, b.len, "a\0b42", 5, "buf_printf appends");
	ok(b.data[b.len] == '\0', "buffer stays NUL-terminated");
	buf_free(&b);
	ok(bytes_cmp(x, y) < 0, "a prefix sorts first");
	ok(bytes_cmp(y, x) > 0, "longer sorts after its prefix");
	ok(bytes_eq(x, bytes_str("ab")), "equal byte strings are equal");
	log_setreason("cannot open '%s'", "x");
	is_str(log_reason(), "cannot open 'x'", "reason is kept");
	return done_testing();
}
