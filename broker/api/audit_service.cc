#include "broker/api/api_common.h"
#include "broker/api/services.h"

namespace portcullis::api {

grpc::Status AuditServiceImpl::ListEvents(grpc::ServerContext* ctx,
                                          const v1::ListEventsRequest* req,
                                          v1::ListEventsResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  audit::AuditFilter f;
  if (req->has_since()) f.since_unix = req->since().seconds();
  if (!req->type_prefix().empty()) f.type_prefix = req->type_prefix();
  if (!req->actor().empty()) f.actor = req->actor();
  f.limit = req->limit() <= 0 ? 1000 : std::min(req->limit(), 10000);
  auto rows = b_.audit().List(f);
  if (!rows.ok()) return ToGrpc(rows.status());
  for (const auto& r : *rows) {
    auto* e = resp->add_events();
    e->set_seq(r.seq);
    e->set_time(r.time);
    e->set_type(r.event.type);
    e->set_actor(r.event.actor);
    e->set_subject(r.event.subject);
    e->set_outcome(r.event.outcome);
    e->set_source(r.event.source);
    e->set_details_json(r.event.details.dump());
    e->set_prev_hash(r.prev_hash);
    e->set_hash(r.hash);
  }
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::VerifyChain(grpc::ServerContext* ctx, const v1::VerifyChainRequest*,
                                           v1::VerifyChainResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto v = b_.audit().Verify();
  if (!v.ok()) return ToGrpc(v.status());
  resp->set_ok(v->ok);
  resp->set_rows_checked(v->rows_checked);
  resp->set_first_bad_seq(v->first_bad_seq.value_or(0));
  resp->set_message(v->message);
  return grpc::Status::OK;
}

}  // namespace portcullis::api
