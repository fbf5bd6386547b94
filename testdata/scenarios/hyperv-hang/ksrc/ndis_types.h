/* ntdbg scenario "hyperv-hang", kernel side: NDIS.SYS's internal structures.
 *
 * RESERVED FOR THE NEXT ISSUE (the NDIS miniport state behind the seed's
 * !ndiskd.miniports, !ndiskd.miniport and !ndiskd.oid): _NDIS_M_DRIVER_BLOCK,
 * _NDIS_MINIPORT_BLOCK, _NDIS_OID_REQUEST and what they hold, with the
 * Windows 8.1 offsets of formats-spec.md 6.9, go here; ndis.c must use each
 * (a global of the type is enough) for clang to put it into ndis.pdb. Nothing
 * is designed yet: the miniature NDIS.SYS does not use them. */
#ifndef NTDBG_NDIS_TYPES_H
#define NTDBG_NDIS_TYPES_H

#endif /* NTDBG_NDIS_TYPES_H */
