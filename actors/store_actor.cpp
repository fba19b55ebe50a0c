#include "actors/store_actor.hpp"

#include "auth/credentials.hpp"

namespace proxy {

store_actor::behavior_type store_behavior(store_actor::stateful_pointer<store_state> self,
                                          std::string path) {
  return {
      [self, path](load_atom) {
        file_reply r;
        self->state.lock.reset();
        auto lock = file_lock::acquire(lock_path_for(path), store_lock_timeout);
        if (!lock) {
          r.error = lock.error();
          return r;
        }
        self->state.lock.emplace(std::move(lock.value()));
        r.locked = true;
        auto text = read_text_file(path);
        r.ok = text.ok();
        if (text)
          r.text = std::move(text.value());
        else
          r.error = text.error();
        return r;
      },
      [self, path](save_atom, const oauth_tokens &tokens, const std::string &base) {
        // Keep the other keys of the file as it is now (another tool may have added some).
        auto current = read_text_file(path);
        save_reply r;
        r.json = update_claude_credentials(current ? current.value() : base, tokens);
        if (auto written = write_file_durably(path, r.json); !written)
          r.error = written.error();
        self->state.lock.reset(); // the new pair is on disk: others may read it now
        return r;
      },
      [self](unlock_atom) { self->state.lock.reset(); },
  };
}

} // namespace proxy
