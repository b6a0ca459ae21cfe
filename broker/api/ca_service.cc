#include "broker/api/api_common.h"
#include "broker/api/services.h"
#include "broker/common/files.h"
#include "recorder/verifier.h"

namespace portcullis::api {

grpc::Status CaServiceImpl::ExportCa(grpc::ServerContext* ctx, const v1::ExportCaRequest* req,
                                     v1::ExportCaResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  switch (req->kind()) {
    case v1::CA_KIND_SSH_USER:
      resp->set_data(b_.authority().SshUserCaLine() + "\n");
      return grpc::Status::OK;
    case v1::CA_KIND_TLS: {
      // After `portcullisd tls import` the API is signed by the plant's
      // PKI, not by this CA: exporting it would hand out the wrong anchor.
      if (PathExists(b_.config().TlsImportedPath())) {
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            "the API serves a certificate imported from your PKI "
                            "(portcullisd tls import); trust that PKI's CA certificate");
      }
      auto pem = ReadFileBounded(b_.config().TlsCaCertPath(), 64 * 1024);
      if (!pem.ok()) return ToGrpc(pem.status());
      resp->set_data(*pem);
      return grpc::Status::OK;
    }
    case v1::CA_KIND_RECORDING:
      resp->set_data(recorder::RecordingPublicKeyPem(b_.authority().RecordingPublicKey()));
      return grpc::Status::OK;
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "kind must be ssh-user, tls or recording");
  }
}

}  // namespace portcullis::api
