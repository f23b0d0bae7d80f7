#pragma once
/// How the runners turn a transport::Failure into session input and into a status text. Shared
/// by MeetingRunner and the probe so both describe a failure the same way.

#include <string>

#include "plugin/session/session.h"
#include "plugin/transport/result.h"

namespace hme::app {

/// A short, secret-free text for `failure`, e.g. "HTTP 400 MMC.111072065: CONF_NOT_FOUND…".
/// Never throws except std::bad_alloc.
std::string describeFailure(const transport::Failure& failure);

/// The session's view of a failed REST call. Never throws except std::bad_alloc.
session::RequestFailure toRequestFailure(const transport::Failure& failure);

}  // namespace hme::app
