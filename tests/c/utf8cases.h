/*
 * utf8cases.h --
 *
 *      The table of UTF-8 inputs that both WebSocket unit tests run: the
 *      kinds of input Autobahn section 6 sends (boundaries, overlong forms,
 *      surrogates, out-of-range code points, stray and missing continuation
 *      bytes, truncation), each with its verdict and, when invalid, the
 *      index of the byte that makes it so.  wsframe_test.c checks the
 *      validator on it; wsparser_test.c sends each entry as a text message.
 *      A static inline accessor and macros only, like unittest.h.
 */

#ifndef UTF8CASES_H
#define UTF8CASES_H

#include <stddef.h>
#include <stdint.h>

#define U8_VALID      (-1)
#define U8_INCOMPLETE (-2)
#define U8(s)         (const uint8_t *)(s), sizeof(s) - 1

typedef struct Utf8Case {
    const char    *name;
    const uint8_t *bytes;
    size_t         len;
    int            expect;      /* U8_VALID, U8_INCOMPLETE, or the failing index */
} Utf8Case;


/*
 *----------------------------------------------------------------------
 *
 * Utf8Cases --
 *
 *      The table.
 *
 * Results:
 *      Its first entry; *countPtr: the number of entries.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static inline const Utf8Case *
Utf8Cases(size_t *countPtr)
{
    static const Utf8Case cases[] = {
        {"empty", U8(""), U8_VALID},
        {"ascii", U8("Hello, world! 0123456789 abcdefghijklmnopqrstuvwxyz"), U8_VALID},
        {"6.2 mixed", U8("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"),
         U8_VALID},
        {"kosme", U8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), U8_VALID},
        {"U+0000", (const uint8_t *)"\0", 1, U8_VALID},
        {"U+007F", U8("\x7f"), U8_VALID},
        {"U+0080", U8("\xc2\x80"), U8_VALID},
        {"U+07FF", U8("\xdf\xbf"), U8_VALID},
        {"U+0800", U8("\xe0\xa0\x80"), U8_VALID},
        {"U+0FFF", U8("\xe0\xbf\xbf"), U8_VALID},
        {"U+1000", U8("\xe1\x80\x80"), U8_VALID},
        {"U+D7FF", U8("\xed\x9f\xbf"), U8_VALID},
        {"U+E000", U8("\xee\x80\x80"), U8_VALID},
        {"U+FDD0 noncharacter", U8("\xef\xb7\x90"), U8_VALID},
        {"U+FFFD", U8("\xef\xbf\xbd"), U8_VALID},
        {"U+FFFE noncharacter", U8("\xef\xbf\xbe"), U8_VALID},
        {"U+FFFF", U8("\xef\xbf\xbf"), U8_VALID},
        {"U+10000", U8("\xf0\x90\x80\x80"), U8_VALID},
        {"U+1FFFF", U8("\xf0\x9f\xbf\xbf"), U8_VALID},
        {"U+3FFFF", U8("\xf0\xbf\xbf\xbf"), U8_VALID},
        {"U+40000", U8("\xf1\x80\x80\x80"), U8_VALID},
        {"U+FFFFF", U8("\xf3\xbf\xbf\xbf"), U8_VALID},
        {"U+100000", U8("\xf4\x80\x80\x80"), U8_VALID},
        {"U+10FFFF", U8("\xf4\x8f\xbf\xbf"), U8_VALID},
        {"all lengths", U8("a\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80z\xdf\xbf\xef\xbf\xbf"
                           "\xf4\x8f\xbf\xbf"), U8_VALID},

        {"6.3 kosme with surrogate", U8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
                                        "edited"), 12},
        {"U+110000", U8("\xf4\x90\x80\x80"), 1},
        {"F5 lead", U8("\xf5\x80\x80\x80"), 0},
        {"U+1FFFFF", U8("\xf7\xbf\xbf\xbf"), 0},
        {"5-byte U+200000", U8("\xf8\x88\x80\x80\x80"), 0},
        {"6-byte U+4000000", U8("\xfc\x84\x80\x80\x80\x80"), 0},
        {"first continuation", U8("\x80"), 0},
        {"last continuation", U8("\xbf"), 0},
        {"two continuations", U8("\x80\xbf"), 0},
        {"continuation after ascii", U8("a\x80"), 1},
        {"continuation after a character", U8("\xe2\x82\xac\x80"), 3},
        {"lonely C0", U8("\xc0\x20"), 0},
        {"lonely C2", U8("\xc2\x20"), 1},
        {"lonely DF", U8("\xdf\x20"), 1},
        {"lonely E0", U8("\xe0\x20"), 1},
        {"lonely E1", U8("\xe1\x20"), 1},
        {"lonely F0", U8("\xf0\x20"), 1},
        {"lonely F1 after one", U8("\xf1\x80\x20"), 2},
        {"lonely F4 after two", U8("\xf4\x80\x80\x20"), 3},
        {"lead after lead", U8("\xc2\xc2\x80"), 1},
        {"bad third byte", U8("\xe2\x82\x28"), 2},
        {"overlong / 2", U8("\xc0\xaf"), 0},
        {"overlong / 3", U8("\xe0\x80\xaf"), 1},
        {"overlong / 4", U8("\xf0\x80\x80\xaf"), 1},
        {"overlong / 5", U8("\xf8\x80\x80\x80\xaf"), 0},
        {"overlong / 6", U8("\xfc\x80\x80\x80\x80\xaf"), 0},
        {"max overlong 2", U8("\xc1\xbf"), 0},
        {"max overlong 3", U8("\xe0\x9f\xbf"), 1},
        {"max overlong 4", U8("\xf0\x8f\xbf\xbf"), 1},
        {"overlong NUL 2", U8("\xc0\x80"), 0},
        {"overlong NUL 3", U8("\xe0\x80\x80"), 1},
        {"surrogate D800", U8("\xed\xa0\x80"), 1},
        {"surrogate DB7F", U8("\xed\xad\xbf"), 1},
        {"surrogate DB80", U8("\xed\xae\x80"), 1},
        {"surrogate DBFF", U8("\xed\xaf\xbf"), 1},
        {"surrogate DC00", U8("\xed\xb0\x80"), 1},
        {"surrogate DF80", U8("\xed\xbe\x80"), 1},
        {"surrogate DFFF", U8("\xed\xbf\xbf"), 1},
        {"surrogate pair", U8("\xed\xa0\x80\xed\xb0\x80"), 1},
        {"FE", U8("\xfe"), 0},
        {"FF", U8("\xff"), 0},
        {"FE FE FF FF", U8("\xfe\xfe\xff\xff"), 0},
        {"late FF after ascii", U8("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xff"), 40},
        {"late surrogate", U8("aaaaaaaaaaaaaaaaa\xce\xba\xed\xa0\x80"), 20},

        {"cut C2", U8("\xc2"), U8_INCOMPLETE},
        {"cut E0 A0", U8("\xe0\xa0"), U8_INCOMPLETE},
        {"cut E1", U8("\xe1"), U8_INCOMPLETE},
        {"cut ED 9F", U8("\xed\x9f"), U8_INCOMPLETE},
        {"cut F0 90 80", U8("\xf0\x90\x80"), U8_INCOMPLETE},
        {"cut F4 8F BF", U8("\xf4\x8f\xbf"), U8_INCOMPLETE},
        {"cut kosme", U8("\xce\xba\xe1\xbd"), U8_INCOMPLETE},
    };

    *countPtr = sizeof(cases) / sizeof(cases[0]);
    return cases;
}

#endif /* UTF8CASES_H */
