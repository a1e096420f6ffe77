/*
 * Position index for JSON text: a scanner that records the line and column
 * of every value and object key, so that configuration errors can point
 * into the file.  jansson reports positions only for syntax errors.
 *
 * The scanner checks structure (brackets, commas, colons, string escapes)
 * but not the spelling of numbers and literals, nor UTF-8, so it is meant
 * to run on text that jansson accepted.  It is still safe on any bytes: it
 * reads only text[0..len), bounds its nesting and stops at the first byte
 * it cannot place, reporting where it stopped and in which value.
 *
 * Lines and columns start at 1.  A column counts Unicode characters as
 * jansson does (bytes that are not UTF-8 continuation bytes), and a tab
 * counts as one.
 */
#ifndef IKESHIFT_RT_JSONPOS_H
#define IKESHIFT_RT_JSONPOS_H

#include <stddef.h>
#include <stdint.h>

/* Maximum length of text that jsonpos_scan() indexes. */
#define JSONPOS_TEXT_MAX ((size_t)1 << 30)

/* Highest nesting depth that jsonpos_scan() accepts as max_depth. */
#define JSONPOS_DEPTH_MAX 512

/* Node index meaning "no such node". */
#define JSONPOS_NONE SIZE_MAX

struct jsonpos {
    uint32_t line;      /* 1-based; 0 when unknown */
    uint32_t column;    /* 1-based, in characters */
};

enum jsonpos_kind {
    JSONPOS_SCALAR,     /* number, true, false or null */
    JSONPOS_STRING,
    JSONPOS_OBJECT,
    JSONPOS_ARRAY,
};

enum jsonpos_status {
    JSONPOS_OK,         /* one value followed only by whitespace */
    JSONPOS_TRUNCATED,  /* the text ended inside a value, or was empty */
    JSONPOS_UNEXPECTED, /* a byte that cannot appear where it is */
    JSONPOS_TOO_DEEP,   /* a container nested deeper than max_depth */
    JSONPOS_TOO_LARGE,  /* more than JSONPOS_TEXT_MAX bytes */
};

struct jsonpos_doc;

/*
 * Scans text[0..len) (need not be NUL-terminated) and returns its index,
 * or NULL when out of memory.  The index is returned whatever the status,
 * holding the nodes read before the scanner stopped.  At most `max_depth`
 * containers may nest (1 allows a flat object; values above
 * JSONPOS_DEPTH_MAX are lowered to it).  The caller owns the index and
 * frees it with jsonpos_free(); the text is not referenced afterwards.
 */
struct jsonpos_doc *
jsonpos_scan(const char *text, size_t len, unsigned max_depth);

/*
 * Returns the line and column of text[offset] (of the end of the text when
 * offset >= len), counted as the scanner counts them.
 */
struct jsonpos
jsonpos_offset_to_pos(const char *text, size_t len, size_t offset);

/* Frees `doc`; NULL is ignored. */
void
jsonpos_free(struct jsonpos_doc *doc);

/* Returns how the scan ended. */
enum jsonpos_status
jsonpos_get_status(const struct jsonpos_doc *doc);

/*
 * Returns where the scan stopped: the offending byte for UNEXPECTED and
 * TOO_DEEP, the start of the last token for TRUNCATED (a key, a string, a
 * number or a bracket), and the end of the text for OK.
 */
struct jsonpos
jsonpos_get_stop_pos(const struct jsonpos_doc *doc);

/*
 * Returns the path of the value that the scanner was in when it stopped,
 * such as "listen[1].port" ("" for the top level), cut with "..." beyond
 * 255 bytes.  The string is lent until jsonpos_free().
 */
const char *
jsonpos_get_stop_path(const struct jsonpos_doc *doc);

/* Returns the number of nodes; node 0 is the top-level value. */
size_t
jsonpos_count(const struct jsonpos_doc *doc);

/* Returns the kind of node `idx` (JSONPOS_SCALAR for a bad index). */
enum jsonpos_kind
jsonpos_get_kind(const struct jsonpos_doc *doc, size_t idx);

/* Returns the position of the first byte of node `idx`'s value. */
struct jsonpos
jsonpos_get_pos(const struct jsonpos_doc *doc, size_t idx);

/* Returns the position of node `idx`'s key; {0, 0} outside objects. */
struct jsonpos
jsonpos_get_key_pos(const struct jsonpos_doc *doc, size_t idx);

/*
 * Returns node `idx`'s decoded key (UTF-8, NUL-terminated, lent until
 * jsonpos_free()) and stores its length in *len (may be NULL).  Returns
 * NULL for a node that is not an object member.
 */
const char *
jsonpos_get_key(const struct jsonpos_doc *doc, size_t idx, size_t *len);

/* Returns the number of members or elements of node `idx`. */
size_t
jsonpos_child_count(const struct jsonpos_doc *doc, size_t idx);

/* Returns the node of the i-th member or element, or JSONPOS_NONE. */
size_t
jsonpos_child(const struct jsonpos_doc *doc, size_t idx, size_t i);

/*
 * Returns the member of object node `idx` whose decoded key equals
 * key[0..key_len), or JSONPOS_NONE.  Linear in the number of members.
 */
size_t
jsonpos_find_key(const struct jsonpos_doc *doc, size_t idx, const char *key,
    size_t key_len);

/*
 * As jsonpos_find_key(), starting at member *hint and wrapping around, and
 * storing in *hint the position after the member found.  Looking members
 * up in file order then costs one comparison each.
 */
size_t
jsonpos_find_key_from(const struct jsonpos_doc *doc, size_t idx,
    const char *key, size_t key_len, size_t *hint);

/*
 * Writes the path of node `idx` ("gateways[2].port") into `buf` and
 * returns `buf`.  A key made of letters, digits, '_' and '-' follows a
 * '.'; any other key is written as ["key"] with '"', '\' and bytes outside
 * 0x20-0x7e escaped.  Output beyond `size` is cut and ends in "...".
 */
char *
jsonpos_format_path(const struct jsonpos_doc *doc, size_t idx, char *buf,
    size_t size);

/*
 * Appends ".key" or ["key"] (as above) to the NUL-terminated path in
 * `buf`, cutting with "..." at `size`.  Returns `buf`.
 */
char *
jsonpos_append_key(char *buf, size_t size, const char *key, size_t key_len);

/* Appends "[index]" to the path in `buf`, as jsonpos_append_key(). */
char *
jsonpos_append_index(char *buf, size_t size, size_t index);

#endif /* IKESHIFT_RT_JSONPOS_H */
