// The four load modes. Each runs a whole measurement (threads, phases, window) and fills the
// report; it never prints. A mode sets report.fatal when the run could not be carried out.
#pragma once

#include "client_connection.h"
#include "options.h"
#include "report.h"

namespace wshub::load {

void run_echo(const LoadOptions& options, const ConnectTarget& target, Report& report);
void run_idle(const LoadOptions& options, const ConnectTarget& target, Report& report);
void run_connect(const LoadOptions& options, const ConnectTarget& target, Report& report);
void run_fanout(const LoadOptions& options, const ConnectTarget& target, Report& report);

}  // namespace wshub::load
