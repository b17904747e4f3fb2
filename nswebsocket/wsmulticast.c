/*
 * wsmulticast.c --
 *
 *      Subscriptions and multicast.  A subscription is a named set of
 *      WebSocket channels of one server; every server-side WebSocket is
 *      also in the server's hidden subscription "all".  ws::multicast copies
 *      the frame once into a shared, reference-counted buffer and queues a
 *      reference to it on each subscriber: no copy per subscriber, and one
 *      writev per channel for whatever is queued.  A subscriber whose queue
 *      is over its limit is a slow consumer: closed with 1008 or skipped,
 *      by policy, logged once, and never holding anyone else up.
 *
 *      A channel leaves all its subscriptions the moment it closes, for any
 *      reason.  subsLock protects the table and every channel's list of
 *      subscriptions; it is taken before a channel's lock and never held
 *      while sending.
 */

#include "websocket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Subscription {
    ConnChan **chans;       /* subscribed channels, each referenced */
    int        n;
    int        size;
} Subscription;

static pthread_mutex_t subsLock = PTHREAD_MUTEX_INITIALIZER;
static Tcl_HashTable   subscriptions;      /* "server\002name" -> Subscription */
static bool            subsInit = false;

/*
 *----------------------------------------------------------------------
 * Key --
 *
 *      The table key of a subscription of a server.
 *----------------------------------------------------------------------
 */
static const char *
Key(Tcl_DString *dsPtr, const char *server, const char *name)
{
    Tcl_DStringInit(dsPtr);
    Tcl_DStringAppend(dsPtr, server, -1);
    Tcl_DStringAppend(dsPtr, "\002", 1);
    Tcl_DStringAppend(dsPtr, name, -1);
    return Tcl_DStringValue(dsPtr);
}

/*
 *----------------------------------------------------------------------
 * Find --
 *
 *      Look up (or create) a subscription.  Called with subsLock held.
 *----------------------------------------------------------------------
 */
static Subscription *
Find(const char *server, const char *name, bool create)
{
    Tcl_DString    ds;
    Tcl_HashEntry *hPtr;
    Subscription  *subPtr = NULL;
    int            isNew;

    if (!subsInit) {
        Tcl_InitHashTable(&subscriptions, TCL_STRING_KEYS);
        subsInit = true;
    }
    Key(&ds, server, name);
    if (create) {
        hPtr = Tcl_CreateHashEntry(&subscriptions, Tcl_DStringValue(&ds), &isNew);
        if (isNew) {
            subPtr = ckalloc(sizeof(Subscription));
            memset(subPtr, 0, sizeof(Subscription));
            Tcl_SetHashValue(hPtr, subPtr);
        }
    } else {
        hPtr = Tcl_FindHashEntry(&subscriptions, Tcl_DStringValue(&ds));
    }
    if (hPtr != NULL) {
        subPtr = Tcl_GetHashValue(hPtr);
    }
    Tcl_DStringFree(&ds);
    return subPtr;
}

/*
 *----------------------------------------------------------------------
 * ListAdd, ListRemove --
 *
 *      A channel's own list of its subscriptions: "all" as a flag, the
 *      others as names in one malloc'd block, freed when the last goes.
 *      A channel is in few subscriptions, so the block is sized exactly.
 *      Called with subsLock held.
 *----------------------------------------------------------------------
 */
static void
ListAdd(ConnChan *chanPtr, const char *name)
{
    size_t nameLen = strlen(name) + 1;

    if (strcmp(name, WS_ALL_SUBSCRIPTION) == 0) {
        chanPtr->inAll = true;
        return;
    }
    if (nameLen > UINT32_MAX - chanPtr->subscriptionsLen) {
        Tcl_Panic("ws::subscribe: over 4 GB of subscription names on %s", chanPtr->name);
    }
    chanPtr->subscriptions = ns_realloc(chanPtr->subscriptions,
                                        chanPtr->subscriptionsLen + nameLen);
    memcpy(chanPtr->subscriptions + chanPtr->subscriptionsLen, name, nameLen);
    chanPtr->subscriptionsLen += (uint32_t)nameLen;
}

static void
ListRemove(ConnChan *chanPtr, const char *name)
{
    char  *list = chanPtr->subscriptions;
    size_t len = chanPtr->subscriptionsLen, nameLen = strlen(name) + 1;

    if (strcmp(name, WS_ALL_SUBSCRIPTION) == 0) {
        chanPtr->inAll = false;
        return;
    }
    for (char *p = list; p != NULL && p < list + len; p += strlen(p) + 1) {
        if (strcmp(p, name) == 0) {
            memmove(p, p + nameLen, (size_t)(list + len - p) - nameLen);
            chanPtr->subscriptionsLen -= (uint32_t)nameLen;
            break;
        }
    }
    if (chanPtr->subscriptionsLen == 0) {
        free(chanPtr->subscriptions);
        chanPtr->subscriptions = NULL;
    }
}

/*
 *----------------------------------------------------------------------
 * WsSubscribe --
 *
 *      Add a channel to a subscription (no-op when already in it).
 *
 * Results:
 *      The number of subscribers afterwards.
 *----------------------------------------------------------------------
 */
int
WsSubscribe(ConnChan *chanPtr, const char *name)
{
    Subscription *subPtr;
    int           n;
    bool          present = false;

    pthread_mutex_lock(&subsLock);
    subPtr = Find(chanPtr->server, name, true);
    for (int i = 0; i < subPtr->n && !present; i++) {
        present = (subPtr->chans[i] == chanPtr);
    }
    if (!present && !chanPtr->closed) {
        if (subPtr->n == subPtr->size) {
            subPtr->size = subPtr->size * 2 + 8;
            subPtr->chans = ckrealloc(subPtr->chans, sizeof(ConnChan *) * (size_t)subPtr->size);
        }
        atomic_fetch_add(&chanPtr->refCount, 1);
        subPtr->chans[subPtr->n++] = chanPtr;
        ListAdd(chanPtr, name);
    }
    n = subPtr->n;
    pthread_mutex_unlock(&subsLock);
    return n;
}

/*
 *----------------------------------------------------------------------
 * RemoveLocked --
 *
 *      Take a channel out of one subscription and out of the channel's own
 *      list.  Called with subsLock held.
 *
 * Results:
 *      true when it was subscribed (the caller drops that reference).
 *----------------------------------------------------------------------
 */
static bool
RemoveLocked(ConnChan *chanPtr, const char *name)
{
    Subscription *subPtr = Find(chanPtr->server, name, false);
    bool          found = false;

    for (int i = 0; subPtr != NULL && i < subPtr->n; i++) {
        if (subPtr->chans[i] == chanPtr) {
            /* Order among subscribers does not matter: move the last one here. */
            subPtr->chans[i] = subPtr->chans[--subPtr->n];
            found = true;
            break;
        }
    }
    if (found) {
        ListRemove(chanPtr, name);
    }
    return found;
}

int
WsUnsubscribe(ConnChan *chanPtr, const char *name)
{
    bool found;

    pthread_mutex_lock(&subsLock);
    found = RemoveLocked(chanPtr, name);
    pthread_mutex_unlock(&subsLock);
    if (found) {
        ConnChanRelease(chanPtr);
    }
    return found ? 1 : 0;
}

/*
 *----------------------------------------------------------------------
 * WsUnsubscribeAll --
 *
 *      Leave every subscription (a closing channel).
 *----------------------------------------------------------------------
 */
void
WsUnsubscribeAll(ConnChan *chanPtr)
{
    int released = 0;

    pthread_mutex_lock(&subsLock);
    while (chanPtr->inAll || chanPtr->subscriptionsLen > 0) {
        char *name = ns_strdup(chanPtr->inAll ? WS_ALL_SUBSCRIPTION : chanPtr->subscriptions);

        if (RemoveLocked(chanPtr, name)) {
            released++;
        } else {
            /* Not in the table (cannot happen): drop the name anyway. */
            ListRemove(chanPtr, name);
        }
        ckfree(name);
    }
    pthread_mutex_unlock(&subsLock);
    while (released-- > 0) {
        ConnChanRelease(chanPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * WsSubscriptions --
 *
 *      The subscriptions of a channel (the hidden "all" left out).
 *----------------------------------------------------------------------
 */
Tcl_Obj *
WsSubscriptions(ConnChan *chanPtr)
{
    Tcl_Obj *listObj = Tcl_NewListObj(0, NULL);

    pthread_mutex_lock(&subsLock);
    for (const char *p = chanPtr->subscriptions;
         p != NULL && p < chanPtr->subscriptions + chanPtr->subscriptionsLen; p += strlen(p) + 1) {
        Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(p, -1));
    }
    pthread_mutex_unlock(&subsLock);
    return listObj;
}

/*
 *----------------------------------------------------------------------
 * WsSubscriptionNames --
 *
 *      Every subscription of a server that has subscribers.
 *----------------------------------------------------------------------
 */
Tcl_Obj *
WsSubscriptionNames(const char *server)
{
    Tcl_Obj       *listObj = Tcl_NewListObj(0, NULL);
    Tcl_HashSearch search;
    size_t         serverLen = strlen(server);

    pthread_mutex_lock(&subsLock);
    for (Tcl_HashEntry *hPtr = subsInit ? Tcl_FirstHashEntry(&subscriptions, &search) : NULL;
         hPtr != NULL; hPtr = Tcl_NextHashEntry(&search)) {
        const char         *key = Tcl_GetHashKey(&subscriptions, hPtr);
        const Subscription *subPtr = Tcl_GetHashValue(hPtr);

        if (subPtr->n > 0 && strncmp(key, server, serverLen) == 0 && key[serverLen] == '\002'
            && strcmp(key + serverLen + 1, WS_ALL_SUBSCRIPTION) != 0) {
            Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(key + serverLen + 1, -1));
        }
    }
    pthread_mutex_unlock(&subsLock);
    return listObj;
}

/*
 *----------------------------------------------------------------------
 * Snapshot --
 *
 *      The channels of a subscription, each referenced, so the caller can
 *      send without holding subsLock.
 *----------------------------------------------------------------------
 */
static ConnChan **
Snapshot(const char *server, const char *name, int *nPtr)
{
    Subscription *subPtr;
    ConnChan    **chans = NULL;

    pthread_mutex_lock(&subsLock);
    subPtr = Find(server, strcmp(name, "all") == 0 ? WS_ALL_SUBSCRIPTION : name, false);
    *nPtr = (subPtr != NULL) ? subPtr->n : 0;
    if (*nPtr > 0) {
        chans = ckalloc(sizeof(ConnChan *) * (size_t)*nPtr);
        for (int i = 0; i < *nPtr; i++) {
            chans[i] = subPtr->chans[i];
            atomic_fetch_add(&chans[i]->refCount, 1);
        }
    }
    pthread_mutex_unlock(&subsLock);
    return chans;
}

Tcl_Obj *
WsSubscribers(const char *server, const char *name)
{
    Tcl_Obj   *listObj = Tcl_NewListObj(0, NULL);
    int        n;
    ConnChan **chans = Snapshot(server, name, &n);

    for (int i = 0; i < n; i++) {
        Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(chans[i]->name, -1));
        ConnChanRelease(chans[i]);
    }
    ckfree(chans);
    return listObj;
}

/*
 *----------------------------------------------------------------------
 * Excluded --
 *
 *      Is a channel in the -exclude list?
 *----------------------------------------------------------------------
 */
static bool
Excluded(const ConnChan *chanPtr, Tcl_Obj *const *excluded, int nexcluded)
{
    for (int i = 0; i < nexcluded; i++) {
        if (strcmp(Tcl_GetString(excluded[i]), chanPtr->name) == 0) {
            return true;
        }
    }
    return false;
}

/*
 *----------------------------------------------------------------------
 * WsMulticast --
 *
 *      Send a frame to every subscriber of a subscription ("all": every
 *      WebSocket of the server), except the excluded ones.  Safe from any
 *      thread, also while subscribers close.
 *
 * Results:
 *      TCL_OK; *deliveredPtr gets the number of channels the frame was
 *      sent or queued to.
 *----------------------------------------------------------------------
 */
int
WsMulticast(const char *server, const char *name, const char *frame, size_t len,
            Tcl_Obj *excludeObj, int *deliveredPtr)
{
    Tcl_Obj **excluded = NULL;
    int       nexcluded = 0, n, delivered = 0;
    ConnChan **chans = Snapshot(server, name, &n);
    ChanBuf  *bufPtr;

    if (excludeObj != NULL) {
        (void)Tcl_ListObjGetElements(NULL, excludeObj, &nexcluded, &excluded);
    }
    bufPtr = (n > 0) ? ChanBufCreate(frame, len) : NULL;
    for (int i = 0; i < n; i++) {
        ConnChan  *chanPtr = chans[i];
        WsChannel *wsPtr = chanPtr->wsPtr;

        if (!Excluded(chanPtr, excluded, nexcluded) && wsPtr != NULL) {
            /* Slow is a channel with more than sendLimit queued from before. */
            size_t         limit = (wsPtr->sendLimit > 0) ? wsPtr->sendLimit + len : 0;
            ChanSendStatus status = ConnChanWriteShared(chanPtr, bufPtr, limit);

            if (status == CHAN_SEND_OK) {
                delivered++;
            } else if (status == CHAN_SEND_OVER_LIMIT) {
                WsSlowConsumer(chanPtr);
            }
        }
        ConnChanRelease(chanPtr);
    }
    if (bufPtr != NULL) {
        ChanBufRelease(bufPtr);
    }
    ckfree(chans);
    *deliveredPtr = delivered;
    return TCL_OK;
}
