#include "actors/store_actor.hpp"

#include "auth/credentials.hpp"
#include "io/credential_file.hpp"

namespace proxy {

store_actor::behavior_type store_behavior(store_actor::pointer, std::string path) {
  return {
      [path](load_atom) {
        file_reply r;
        auto text = read_text_file(path);
        r.ok = text.ok();
        if (text)
          r.text = std::move(text.value());
        else
          r.error = text.error();
        return r;
      },
      [path](save_atom, const oauth_tokens &tokens, const std::string &base) {
        // Keep the other keys of the file as it is now (another tool may have added some).
        auto current = read_text_file(path);
        save_reply r;
        r.json = update_claude_credentials(current ? current.value() : base, tokens);
        if (auto written = write_file_durably(path, r.json); !written)
          r.error = written.error();
        return r;
      },
  };
}

} // namespace proxy
