/*
 * libFuzzer target for the protocol tokenizer: any message must parse
 * without reading out of bounds, and every parsed line must re-encode to
 * tokens that parse back to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "proto.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_args *a = xmalloc(sizeof(*a)), *b = xmalloc(sizeof(*b));
	struct buf err = BUF_INIT, line = BUF_INIT;
	size_t pos = 0, pos2, i;
	int r;

	proto_args_init(a);
	proto_args_init(b);
	while ((r = proto_parse(data, size, &pos, a, &err)) != 0) {
		if (pos > size)
			abort();
		if (r == -1)
			continue;
		buf_reset(&line);
		for (i = 0; i < a->argc; i++)
			proto_add_token(&line, a->argv[i].ptr, a->argv[i].len);
		buf_addc(&line, '\n');
		pos2 = 0;
		if (proto_parse(line.data, line.len, &pos2, b, &err) != 1 ||
		    b->argc != a->argc)
			abort();
		for (i = 0; i < a->argc; i++)
			if (!bytes_eq(a->argv[i], b->argv[i]))
				abort();
	}
	proto_args_free(a);
	proto_args_free(b);
	free(a);
	free(b);
	buf_free(&err);
	buf_free(&line);
	return 0;
}
