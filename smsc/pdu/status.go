package pdu

import "fmt"

// Status is the command_status header field (SMPP 3.4 §5.1.3, smpp.md §2).
// A non-zero Status is an error: a response carrying it can be returned as
// is, and errors.As recovers the code.
type Status uint32

// Command status codes (smpp.md §2). The comment keeps the spec name.
const (
	StatusOK              Status = 0x00000000 // ESME_ROK
	StatusInvMsgLen       Status = 0x00000001 // ESME_RINVMSGLEN
	StatusInvCmdLen       Status = 0x00000002 // ESME_RINVCMDLEN
	StatusInvCmdID        Status = 0x00000003 // ESME_RINVCMDID
	StatusInvBndSts       Status = 0x00000004 // ESME_RINVBNDSTS
	StatusAlyBnd          Status = 0x00000005 // ESME_RALYBND
	StatusInvPrtFlg       Status = 0x00000006 // ESME_RINVPRTFLG
	StatusInvRegDlvFlg    Status = 0x00000007 // ESME_RINVREGDLVFLG
	StatusSysErr          Status = 0x00000008 // ESME_RSYSERR
	StatusInvSrcAdr       Status = 0x0000000A // ESME_RINVSRCADR
	StatusInvDstAdr       Status = 0x0000000B // ESME_RINVDSTADR
	StatusInvMsgID        Status = 0x0000000C // ESME_RINVMSGID
	StatusBindFail        Status = 0x0000000D // ESME_RBINDFAIL
	StatusInvPaswd        Status = 0x0000000E // ESME_RINVPASWD
	StatusInvSysID        Status = 0x0000000F // ESME_RINVSYSID
	StatusCancelFail      Status = 0x00000011 // ESME_RCANCELFAIL
	StatusReplaceFail     Status = 0x00000013 // ESME_RREPLACEFAIL
	StatusMsgQFul         Status = 0x00000014 // ESME_RMSGQFUL
	StatusInvSerTyp       Status = 0x00000015 // ESME_RINVSERTYP
	StatusInvNumDests     Status = 0x00000033 // ESME_RINVNUMDESTS
	StatusInvDLName       Status = 0x00000034 // ESME_RINVDLNAME
	StatusInvDestFlag     Status = 0x00000040 // ESME_RINVDESTFLAG
	StatusInvSubRep       Status = 0x00000042 // ESME_RINVSUBREP
	StatusInvEsmClass     Status = 0x00000043 // ESME_RINVESMCLASS
	StatusCntSubDL        Status = 0x00000044 // ESME_RCNTSUBDL
	StatusSubmitFail      Status = 0x00000045 // ESME_RSUBMITFAIL
	StatusInvSrcTON       Status = 0x00000048 // ESME_RINVSRCTON
	StatusInvSrcNPI       Status = 0x00000049 // ESME_RINVSRCNPI
	StatusInvDstTON       Status = 0x00000050 // ESME_RINVDSTTON
	StatusInvDstNPI       Status = 0x00000051 // ESME_RINVDSTNPI
	StatusInvSysTyp       Status = 0x00000053 // ESME_RINVSYSTYP
	StatusInvRepFlag      Status = 0x00000054 // ESME_RINVREPFLAG
	StatusInvNumMsgs      Status = 0x00000055 // ESME_RINVNUMMSGS
	StatusThrottled       Status = 0x00000058 // ESME_RTHROTTLED
	StatusInvSched        Status = 0x00000061 // ESME_RINVSCHED
	StatusInvExpiry       Status = 0x00000062 // ESME_RINVEXPIRY
	StatusInvDftMsgID     Status = 0x00000063 // ESME_RINVDFTMSGID
	StatusRxTAppn         Status = 0x00000064 // ESME_RX_T_APPN
	StatusRxPAppn         Status = 0x00000065 // ESME_RX_P_APPN
	StatusRxRAppn         Status = 0x00000066 // ESME_RX_R_APPN
	StatusQueryFail       Status = 0x00000067 // ESME_RQUERYFAIL
	StatusInvOptParStream Status = 0x000000C0 // ESME_RINVOPTPARSTREAM
	StatusOptParNotAllwd  Status = 0x000000C1 // ESME_ROPTPARNOTALLWD
	StatusInvParLen       Status = 0x000000C2 // ESME_RINVPARLEN
	StatusMissingOptParam Status = 0x000000C3 // ESME_RMISSINGOPTPARAM
	StatusInvOptParamVal  Status = 0x000000C4 // ESME_RINVOPTPARAMVAL
	StatusDeliveryFailure Status = 0x000000FE // ESME_RDELIVERYFAILURE
	StatusUnknownErr      Status = 0x000000FF // ESME_RUNKNOWNERR
)

type statusInfo struct{ name, text string }

var statusInfos = map[Status]statusInfo{
	StatusOK:              {"ESME_ROK", "ok"},
	StatusInvMsgLen:       {"ESME_RINVMSGLEN", "message length is invalid"},
	StatusInvCmdLen:       {"ESME_RINVCMDLEN", "command length is invalid"},
	StatusInvCmdID:        {"ESME_RINVCMDID", "invalid command id"},
	StatusInvBndSts:       {"ESME_RINVBNDSTS", "incorrect bind status for given command"},
	StatusAlyBnd:          {"ESME_RALYBND", "already in bound state"},
	StatusInvPrtFlg:       {"ESME_RINVPRTFLG", "invalid priority flag"},
	StatusInvRegDlvFlg:    {"ESME_RINVREGDLVFLG", "invalid registered delivery flag"},
	StatusSysErr:          {"ESME_RSYSERR", "system error"},
	StatusInvSrcAdr:       {"ESME_RINVSRCADR", "invalid source address"},
	StatusInvDstAdr:       {"ESME_RINVDSTADR", "invalid destination address"},
	StatusInvMsgID:        {"ESME_RINVMSGID", "message id is invalid"},
	StatusBindFail:        {"ESME_RBINDFAIL", "bind failed"},
	StatusInvPaswd:        {"ESME_RINVPASWD", "invalid password"},
	StatusInvSysID:        {"ESME_RINVSYSID", "invalid system id"},
	StatusCancelFail:      {"ESME_RCANCELFAIL", "cancel sm failed"},
	StatusReplaceFail:     {"ESME_RREPLACEFAIL", "replace sm failed"},
	StatusMsgQFul:         {"ESME_RMSGQFUL", "message queue full"},
	StatusInvSerTyp:       {"ESME_RINVSERTYP", "invalid service type"},
	StatusInvNumDests:     {"ESME_RINVNUMDESTS", "invalid number of destinations"},
	StatusInvDLName:       {"ESME_RINVDLNAME", "invalid distribution list name"},
	StatusInvDestFlag:     {"ESME_RINVDESTFLAG", "invalid destination flag"},
	StatusInvSubRep:       {"ESME_RINVSUBREP", "invalid submit with replace request"},
	StatusInvEsmClass:     {"ESME_RINVESMCLASS", "invalid esm_class field data"},
	StatusCntSubDL:        {"ESME_RCNTSUBDL", "cannot submit to distribution list"},
	StatusSubmitFail:      {"ESME_RSUBMITFAIL", "submit failed"},
	StatusInvSrcTON:       {"ESME_RINVSRCTON", "invalid source address TON"},
	StatusInvSrcNPI:       {"ESME_RINVSRCNPI", "invalid source address NPI"},
	StatusInvDstTON:       {"ESME_RINVDSTTON", "invalid destination address TON"},
	StatusInvDstNPI:       {"ESME_RINVDSTNPI", "invalid destination address NPI"},
	StatusInvSysTyp:       {"ESME_RINVSYSTYP", "invalid system_type field"},
	StatusInvRepFlag:      {"ESME_RINVREPFLAG", "invalid replace_if_present flag"},
	StatusInvNumMsgs:      {"ESME_RINVNUMMSGS", "invalid number of messages"},
	StatusThrottled:       {"ESME_RTHROTTLED", "throttling error"},
	StatusInvSched:        {"ESME_RINVSCHED", "invalid scheduled delivery time"},
	StatusInvExpiry:       {"ESME_RINVEXPIRY", "invalid message validity period"},
	StatusInvDftMsgID:     {"ESME_RINVDFTMSGID", "predefined message invalid or not found"},
	StatusRxTAppn:         {"ESME_RX_T_APPN", "ESME receiver temporary app error"},
	StatusRxPAppn:         {"ESME_RX_P_APPN", "ESME receiver permanent app error"},
	StatusRxRAppn:         {"ESME_RX_R_APPN", "ESME receiver reject message error"},
	StatusQueryFail:       {"ESME_RQUERYFAIL", "query_sm request failed"},
	StatusInvOptParStream: {"ESME_RINVOPTPARSTREAM", "error in the optional part of the PDU body"},
	StatusOptParNotAllwd:  {"ESME_ROPTPARNOTALLWD", "optional parameter not allowed"},
	StatusInvParLen:       {"ESME_RINVPARLEN", "invalid parameter length"},
	StatusMissingOptParam: {"ESME_RMISSINGOPTPARAM", "expected optional parameter missing"},
	StatusInvOptParamVal:  {"ESME_RINVOPTPARAMVAL", "invalid optional parameter value"},
	StatusDeliveryFailure: {"ESME_RDELIVERYFAILURE", "delivery failure"},
	StatusUnknownErr:      {"ESME_RUNKNOWNERR", "unknown error"},
}

// String returns the spec name ("ESME_RTHROTTLED"), "vendor_status(0x0400)"
// for the vendor range 0x400–0x4FF, or "status(0x...)" otherwise.
func (s Status) String() string {
	if i, ok := statusInfos[s]; ok {
		return i.name
	}
	if s.Vendor() {
		return fmt.Sprintf("vendor_status(0x%04X)", uint32(s))
	}
	return fmt.Sprintf("status(0x%X)", uint32(s))
}

// Error returns e.g. "ESME_RTHROTTLED (0x58): throttling error".
func (s Status) Error() string {
	text := "unknown status"
	if i, ok := statusInfos[s]; ok {
		text = i.text
	} else if s.Vendor() {
		text = "vendor specific error"
	}
	return fmt.Sprintf("%s (0x%02X): %s", s.String(), uint32(s), text)
}

// Vendor reports whether s is in the vendor-specific range 0x400–0x4FF.
func (s Status) Vendor() bool { return s >= 0x400 && s <= 0x4FF }

// Temporary reports whether a request failed with s may succeed when sent
// again later (smpp.md §2 default table): ESME_RINVBNDSTS (after a rebind),
// ESME_RSYSERR, ESME_RMSGQFUL, ESME_RTHROTTLED, ESME_RX_T_APPN and
// ESME_RUNKNOWNERR (callers should cap its retries). Everything else,
// including unknown and vendor codes, is permanent; per-SMSC overrides
// belong to the caller.
func (s Status) Temporary() bool {
	switch s {
	case StatusInvBndSts, StatusSysErr, StatusMsgQFul, StatusThrottled,
		StatusRxTAppn, StatusUnknownErr:
		return true
	}
	return false
}

// Throttle reports whether s asks the sender to slow down the whole bind:
// ESME_RTHROTTLED and ESME_RMSGQFUL (smpp.md §2, §7.5).
func (s Status) Throttle() bool {
	return s == StatusThrottled || s == StatusMsgQFul
}
