/*
 * set.c --
 *
 *      The Ns_Set C API: an ordered list of key/value string pairs, used for
 *      request and response headers, forms and config sections.  Keys may
 *      repeat and keys or values may be NULL.  The "I" variants compare keys
 *      case-insensitively with ASCII folding only, so that the result never
 *      depends on the locale.  Sets are not locked: one thread at a time.
 *
 *      Memory comes from malloc, not Tcl's allocator, since sets are built
 *      before Tcl is initialised (config) and move between threads (headers).
 */

#include "nsd.h"

typedef int (KeyCompareProc)(const char *s1, const char *s2);

static KeyCompareProc CompareExact, CompareNoCase;

static void *Alloc(size_t size);
static char *CopyString(const char *string, ssize_t length);
static void MakeRoom(Ns_Set *set, size_t size);
static int FindCompare(const Ns_Set *set, const char *key, KeyCompareProc *cmpProc);
static void Update(Ns_Set *set, const char *key, const char *value, KeyCompareProc *cmpProc);
static bool Unique(const Ns_Set *set, const char *key, KeyCompareProc *cmpProc);
static void Merge(Ns_Set *high, const Ns_Set *low, KeyCompareProc *cmpProc);

/* Fields allocated by a new set: enough for most header sets. */
#define SET_INITIAL_SIZE 10u


/*
 *----------------------------------------------------------------------
 *
 * Alloc, CopyString --
 *
 *      malloc that does not return NULL, and a string copy of at most
 *      length bytes (all of it when length is negative) that keeps NULL.
 *
 * Results:
 *      The memory or copy.
 *
 * Side effects:
 *      Ends the process through Ns_Fatal when memory is exhausted.
 *
 *----------------------------------------------------------------------
 */

static void *
Alloc(size_t size)
{
    void *result = malloc(size > 0u ? size : 1u);

    if (result == NULL) {
        Ns_Fatal("ns_set: out of memory allocating %zu bytes", size);
    }
    return result;
}

static char *
CopyString(const char *string, ssize_t length)
{
    char *result = NULL;

    if (string != NULL) {
        size_t n = (length < 0) ? strlen(string) : (size_t)length;

        result = Alloc(n + 1u);
        memcpy(result, string, n);
        result[n] = '\0';
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * CompareExact, CompareNoCase --
 *
 *      Compare two keys, exactly or with ASCII case folding.
 *
 * Results:
 *      0 when equal, as strcmp.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
CompareExact(const char *s1, const char *s2)
{
    return strcmp(s1, s2);
}

static int
CompareNoCase(const char *s1, const char *s2)
{
    unsigned char c1, c2;

    do {
        c1 = (unsigned char)*s1++;
        c2 = (unsigned char)*s2++;
        if (c1 >= 'A' && c1 <= 'Z') {
            c1 = (unsigned char)(c1 + ('a' - 'A'));
        }
        if (c2 >= 'A' && c2 <= 'Z') {
            c2 = (unsigned char)(c2 + ('a' - 'A'));
        }
    } while (c1 == c2 && c1 != '\0');

    return (int)c1 - (int)c2;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SetCreate, Ns_SetFree --
 *
 *      Make an empty set with a copy of name (which may be NULL), and free
 *      a set with all its fields (NULL is allowed).
 *
 * Results:
 *      The new set, or none.
 *
 * Side effects:
 *      Allocates or frees memory.
 *
 *----------------------------------------------------------------------
 */

Ns_Set *
Ns_SetCreate(const char *name)
{
    Ns_Set *set = Alloc(sizeof(Ns_Set));

    set->name = CopyString(name, -1);
    set->size = 0u;
    set->maxSize = SET_INITIAL_SIZE;
    set->fields = Alloc(sizeof(Ns_SetField) * set->maxSize);
    return set;
}

void
Ns_SetFree(Ns_Set *set)
{
    if (set != NULL) {
        Ns_SetTrunc(set, 0u);
        free(set->fields);
        free(set->name);
        free(set);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * MakeRoom --
 *
 *      Make sure the set has room for size fields.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      May reallocate set->fields (doubling, so appends stay cheap).
 *
 *----------------------------------------------------------------------
 */

static void
MakeRoom(Ns_Set *set, size_t size)
{
    if (size > set->maxSize) {
        size_t       maxSize = set->maxSize * 2u;
        Ns_SetField *fields;

        if (maxSize < size) {
            maxSize = size;
        }
        fields = realloc(set->fields, sizeof(Ns_SetField) * maxSize);
        if (fields == NULL) {
            Ns_Fatal("ns_set: out of memory growing a set to %zu fields", maxSize);
        }
        set->fields = fields;
        set->maxSize = maxSize;
    }
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SetPut, Ns_SetPutSz --
 *
 *      Append a field with copies of key and value (either may be NULL).
 *      Ns_SetPutSz copies the given number of bytes, or the whole string
 *      when a length is negative.
 *
 * Results:
 *      The index of the new field.
 *
 * Side effects:
 *      Allocates memory.
 *
 *----------------------------------------------------------------------
 */

size_t
Ns_SetPut(Ns_Set *set, const char *key, const char *value)
{
    return Ns_SetPutSz(set, key, -1, value, -1);
}

size_t
Ns_SetPutSz(Ns_Set *set, const char *key, ssize_t keyLength, const char *value,
            ssize_t valueLength)
{
    size_t index = set->size;

    MakeRoom(set, index + 1u);
    set->fields[index].name = CopyString(key, keyLength);
    set->fields[index].value = CopyString(value, valueLength);
    set->size = index + 1u;
    return index;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SetPutValue --
 *
 *      Replace the value of field index; an index past the end is ignored.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Frees the old value.
 *
 *----------------------------------------------------------------------
 */

void
Ns_SetPutValue(Ns_Set *set, size_t index, const char *value)
{
    if (index < set->size) {
        char *copy = CopyString(value, -1);

        /* Copy first: value may be the old value itself. */
        free(set->fields[index].value);
        set->fields[index].value = copy;
    }
}


/*
 *----------------------------------------------------------------------
 *
 * FindCompare, Ns_SetFind, Ns_SetIFind --
 *
 *      Find the first field with key; a NULL key finds the first field
 *      without a key.
 *
 * Results:
 *      The index, or -1 when there is none.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
FindCompare(const Ns_Set *set, const char *key, KeyCompareProc *cmpProc)
{
    size_t i;
    int    result = -1;

    for (i = 0u; i < set->size; i++) {
        const char *name = set->fields[i].name;

        if ((key == NULL) ? (name == NULL) : (name != NULL && cmpProc(key, name) == 0)) {
            result = (int)i;
            break;
        }
    }
    return result;
}

int
Ns_SetFind(const Ns_Set *set, const char *key)
{
    return FindCompare(set, key, CompareExact);
}

int
Ns_SetIFind(const Ns_Set *set, const char *key)
{
    return FindCompare(set, key, CompareNoCase);
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SetGet, Ns_SetIGet --
 *
 *      Look up the value of the first field with key.
 *
 * Results:
 *      The value (owned by the set), or NULL when the key is absent or its
 *      value is NULL.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

const char *
Ns_SetGet(const Ns_Set *set, const char *key)
{
    int index = FindCompare(set, key, CompareExact);

    return (index < 0) ? NULL : set->fields[index].value;
}

const char *
Ns_SetIGet(const Ns_Set *set, const char *key)
{
    int index = FindCompare(set, key, CompareNoCase);

    return (index < 0) ? NULL : set->fields[index].value;
}


/*
 *----------------------------------------------------------------------
 *
 * Update, Ns_SetUpdate, Ns_SetIUpdate --
 *
 *      Set the value of the first field with key in place, or append a new
 *      field when there is none.  The case-insensitive variant also takes
 *      over the spelling of the key ("ns_set iupdate $s B 4" turns b into
 *      B, as in NaviServer).
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Frees the replaced strings.
 *
 *----------------------------------------------------------------------
 */

static void
Update(Ns_Set *set, const char *key, const char *value, KeyCompareProc *cmpProc)
{
    int index = FindCompare(set, key, cmpProc);

    if (index < 0) {
        (void)Ns_SetPut(set, key, value);
    } else {
        if (cmpProc == CompareNoCase && key != NULL && strcmp(set->fields[index].name, key) != 0) {
            char *copy = CopyString(key, -1);

            free(set->fields[index].name);
            set->fields[index].name = copy;
        }
        Ns_SetPutValue(set, (size_t)index, value);
    }
}

void
Ns_SetUpdate(Ns_Set *set, const char *key, const char *value)
{
    Update(set, key, value, CompareExact);
}

void
Ns_SetIUpdate(Ns_Set *set, const char *key, const char *value)
{
    Update(set, key, value, CompareNoCase);
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SetDelete --
 *
 *      Delete field index; -1 or an index past the end does nothing.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Frees the field's strings; later fields move down by one.
 *
 *----------------------------------------------------------------------
 */

void
Ns_SetDelete(Ns_Set *set, int index)
{
    if (index >= 0 && (size_t)index < set->size) {
        free(set->fields[index].name);
        free(set->fields[index].value);
        memmove(&set->fields[index], &set->fields[index + 1],
                sizeof(Ns_SetField) * (set->size - (size_t)index - 1u));
        set->size--;
    }
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SetDeleteKey, Ns_SetIDeleteKey --
 *
 *      Delete the first field with key.
 *
 * Results:
 *      true when a field was deleted.
 *
 * Side effects:
 *      See Ns_SetDelete.
 *
 *----------------------------------------------------------------------
 */

bool
Ns_SetDeleteKey(Ns_Set *set, const char *key)
{
    int index = FindCompare(set, key, CompareExact);

    Ns_SetDelete(set, index);
    return (index >= 0);
}

bool
Ns_SetIDeleteKey(Ns_Set *set, const char *key)
{
    int index = FindCompare(set, key, CompareNoCase);

    Ns_SetDelete(set, index);
    return (index >= 0);
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SetTrunc --
 *
 *      Drop all fields from index size on.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Frees the dropped fields' strings.
 *
 *----------------------------------------------------------------------
 */

void
Ns_SetTrunc(Ns_Set *set, size_t size)
{
    while (set->size > size) {
        set->size--;
        free(set->fields[set->size].name);
        free(set->fields[set->size].value);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * Unique, Ns_SetUnique, Ns_SetIUnique --
 *
 *      Check that key occurs at most once.
 *
 * Results:
 *      true when there are zero or one fields with key.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
Unique(const Ns_Set *set, const char *key, KeyCompareProc *cmpProc)
{
    size_t i, found = 0u;

    for (i = 0u; i < set->size && found < 2u; i++) {
        if (set->fields[i].name != NULL && cmpProc(key, set->fields[i].name) == 0) {
            found++;
        }
    }
    return (found < 2u);
}

bool
Ns_SetUnique(const Ns_Set *set, const char *key)
{
    return Unique(set, key, CompareExact);
}

bool
Ns_SetIUnique(const Ns_Set *set, const char *key)
{
    return Unique(set, key, CompareNoCase);
}


/*
 *----------------------------------------------------------------------
 *
 * Merge, Ns_SetMerge, Ns_SetIMerge --
 *
 *      Append to high copies of the fields of low whose keys high does
 *      not have yet.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Allocates memory.
 *
 *----------------------------------------------------------------------
 */

static void
Merge(Ns_Set *high, const Ns_Set *low, KeyCompareProc *cmpProc)
{
    size_t i, lowSize = low->size;

    /* lowSize is read once: high and low may be the same set. */
    for (i = 0u; i < lowSize; i++) {
        if (FindCompare(high, low->fields[i].name, cmpProc) < 0) {
            (void)Ns_SetPut(high, low->fields[i].name, low->fields[i].value);
        }
    }
}

void
Ns_SetMerge(Ns_Set *high, const Ns_Set *low)
{
    Merge(high, low, CompareExact);
}

void
Ns_SetIMerge(Ns_Set *high, const Ns_Set *low)
{
    Merge(high, low, CompareNoCase);
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SetMove --
 *
 *      Move all fields of from to the end of to, leaving from empty.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      The strings change owner without being copied.
 *
 *----------------------------------------------------------------------
 */

void
Ns_SetMove(Ns_Set *to, Ns_Set *from)
{
    if (to != from) {
        MakeRoom(to, to->size + from->size);
        memcpy(&to->fields[to->size], from->fields, sizeof(Ns_SetField) * from->size);
        to->size += from->size;
        from->size = 0u;
    }
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SetCopy --
 *
 *      Copy a set with its name and all fields.
 *
 * Results:
 *      The new set, or NULL when old is NULL.
 *
 * Side effects:
 *      Allocates memory.
 *
 *----------------------------------------------------------------------
 */

Ns_Set *
Ns_SetCopy(const Ns_Set *old)
{
    Ns_Set *set = NULL;

    if (old != NULL) {
        size_t i;

        set = Ns_SetCreate(old->name);
        MakeRoom(set, old->size);
        for (i = 0u; i < old->size; i++) {
            (void)Ns_SetPut(set, old->fields[i].name, old->fields[i].value);
        }
    }
    return set;
}
